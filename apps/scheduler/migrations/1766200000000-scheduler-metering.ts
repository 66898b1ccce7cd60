import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dispatchAccessSql, tenantIsolationSql } from '@lattice/database';

/** GPU queues and the usage outbox: the run time of their jobs metered to USAGE, once. */
export class SchedulerMetering1766200000000 implements MigrationInterface {
  name = 'SchedulerMetering1766200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE scheduler.queues
         ADD COLUMN gpus_per_job integer NOT NULL DEFAULT 0 CHECK (gpus_per_job >= 0)`,
    );

    // usage reports wait here, written with the state change that ended the run they meter
    await q.query(`
      CREATE TABLE scheduler.usage_outbox (
        id bigserial PRIMARY KEY,
        tenant_id uuid NOT NULL,
        event_id uuid NOT NULL,
        subject_suffix text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX usage_outbox_tenant_idx ON scheduler.usage_outbox (tenant_id)`);
    for (const sql of tenantIsolationSql('scheduler', 'usage_outbox')) await q.query(sql);
    for (const sql of dispatchAccessSql('scheduler', 'usage_outbox')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE scheduler.usage_outbox`);
    await q.query(`ALTER TABLE scheduler.queues DROP COLUMN gpus_per_job`);
  }
}
