import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ChainedEvent } from '../chain/hash-chain';

/** An event sealed as it will be stored, waiting for a sequence number. */
export type SealedEvent = Omit<ChainedEvent, 'seq'>;

/**
 * Rows of `audit.parked_events`, inside the tenant's scoped transaction: events that could
 * not join their chain, kept sealed and in arrival order until it can take them.
 */
@Injectable()
export class ParkedEventRepository {
  /** Parks events after those already parked. Returns how many were not parked already. */
  async park(
    em: EntityManager,
    tenantId: string,
    events: SealedEvent[],
    reason: string,
  ): Promise<number> {
    if (events.length === 0) return 0;
    const parked: unknown[] = await em.query(
      `INSERT INTO audit.parked_events (tenant_id, id, reason, event)
       SELECT $1, (e.event ->> 'id')::uuid, $2, e.event
         FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(event, n) ORDER BY e.n
       ON CONFLICT (tenant_id, id) DO NOTHING
       RETURNING 1`,
      [tenantId, reason, JSON.stringify(events)],
    );
    return parked.length;
  }

  /** Removes every parked event of the tenant and returns them, oldest first. */
  async takeAll(em: EntityManager, tenantId: string): Promise<SealedEvent[]> {
    // a SELECT over the DELETE, so that the rows come back as rows, and in order
    const rows: { event: SealedEvent }[] = await em.query(
      `WITH taken AS (DELETE FROM audit.parked_events WHERE tenant_id = $1 RETURNING position, event)
       SELECT event FROM taken ORDER BY position`,
      [tenantId],
    );
    return rows.map((r) => r.event);
  }
}
