import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { NewOutboxRow, OutboxRow, OutboxStore } from '@lattice/messaging';

/** The JOB_EVENTS outbox. */
@Injectable()
export class OutboxRepository implements OutboxStore<EntityManager> {
  async insert(em: EntityManager, row: NewOutboxRow): Promise<void> {
    await em.query(
      `INSERT INTO scheduler.outbox (tenant_id, event_id, subject_suffix, payload)
       VALUES ($1, $2, $3, $4)`,
      [row.tenantId, row.eventId, row.subjectSuffix, JSON.stringify(row.payload)],
    );
  }

  /** The oldest waiting events, locked; a batch another replica is relaying is skipped. */
  async oldest(em: EntityManager, limit: number): Promise<OutboxRow[]> {
    return em.query(
      `SELECT id, event_id AS "eventId", subject_suffix AS "subjectSuffix", payload
         FROM scheduler.outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    );
  }

  async delete(em: EntityManager, id: string): Promise<void> {
    await em.query(`DELETE FROM scheduler.outbox WHERE id = $1`, [id]);
  }
}
