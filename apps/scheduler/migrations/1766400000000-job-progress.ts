import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How far a running job has come, as its worker last reported it (`scheduler.v1.jobs.progress`):
 * `{ done, total, stage?, message?, attempt }`, and when.
 */
export class JobProgress1766400000000 implements MigrationInterface {
  name = 'JobProgress1766400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE scheduler.jobs
        ADD COLUMN progress jsonb CHECK (octet_length(progress::text) <= 4096),
        ADD COLUMN progress_at timestamptz,
        ADD CONSTRAINT jobs_progress_reported_check CHECK ((progress IS NULL) = (progress_at IS NULL))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE scheduler.jobs
        DROP CONSTRAINT jobs_progress_reported_check,
        DROP COLUMN progress_at,
        DROP COLUMN progress`);
  }
}
