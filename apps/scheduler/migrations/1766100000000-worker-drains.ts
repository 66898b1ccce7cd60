import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drain-first scale-in: when the operator drained a worker and until when the drain holds. A
 * pod drained before it ever registered gets a row of its own, never seen (`last_seen_at` at
 * the epoch), so that registering keeps it drained.
 */
export class WorkerDrains1766100000000 implements MigrationInterface {
  name = 'WorkerDrains1766100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE scheduler.workers
        ADD COLUMN drain_started_at timestamptz,
        ADD COLUMN drain_expires_at timestamptz,
        ADD CONSTRAINT workers_drain_check
          CHECK ((drain_started_at IS NULL) = (drain_expires_at IS NULL))`);
    await q.query(
      `CREATE INDEX workers_drain_expiry_idx ON scheduler.workers (drain_expires_at)
         WHERE drain_expires_at IS NOT NULL`,
    );
    // how much each worker holds, asked while it drains
    await q.query(
      `CREATE INDEX jobs_lease_owner_idx ON scheduler.jobs (lease_owner)
         WHERE lease_owner IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX scheduler.jobs_lease_owner_idx`);
    await q.query(`DROP INDEX scheduler.workers_drain_expiry_idx`);
    await q.query(`DELETE FROM scheduler.workers WHERE last_seen_at = 'epoch'`);
    await q.query(`
      ALTER TABLE scheduler.workers
        DROP CONSTRAINT workers_drain_check,
        DROP COLUMN drain_expires_at,
        DROP COLUMN drain_started_at`);
  }
}
