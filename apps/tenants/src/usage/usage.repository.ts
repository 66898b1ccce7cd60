import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { MeteredResource, UsageRecorded } from '@lattice/contracts';

export interface MeterReading {
  resource: MeteredResource;
  period: string;
  used: number;
}

/** `usage_events` (one row per counted message) and `usage_meters` (the running sums). */
@Injectable()
export class UsageRepository {
  /**
   * Counts a report once: the event row's key is (tenant, message id), so a redelivered or
   * re-sent message inserts nothing and leaves the meter alone. Returns whether it counted.
   */
  async record(em: EntityManager, usage: UsageRecorded, period: string): Promise<boolean> {
    const inserted: unknown[] = await em.query(
      `INSERT INTO tenants.usage_events (tenant_id, message_id, resource, amount, period, source, occurred_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (tenant_id, message_id) DO NOTHING
       RETURNING 1`,
      [
        usage.tenantId,
        usage.messageId,
        usage.resource,
        usage.amount,
        period,
        usage.source,
        usage.occurredAt,
      ],
    );
    if (inserted.length === 0) return false;
    await em.query(
      `INSERT INTO tenants.usage_meters (tenant_id, resource, period, used)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, resource, period)
       DO UPDATE SET used = tenants.usage_meters.used + EXCLUDED.used, updated_at = now()`,
      [usage.tenantId, usage.resource, period, usage.amount],
    );
    return true;
  }

  async readings(
    em: EntityManager,
    periods: { resource: MeteredResource; period: string }[],
  ): Promise<MeterReading[]> {
    const rows: { resource: MeteredResource; period: string; used: string }[] = await em.query(
      `SELECT resource, period, used FROM tenants.usage_meters
       WHERE (resource, period) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [periods.map((p) => p.resource), periods.map((p) => p.period)],
    );
    return periods.map(({ resource, period }) => {
      const row = rows.find((r) => r.resource === resource && r.period === period);
      return { resource, period, used: row ? Number(row.used) : 0 };
    });
  }
}
