import type { MigrationInterface, QueryRunner } from 'typeorm';
import { runtimeRole } from '@lattice/database';

/**
 * The ingest copies each batch into a temporary table of its connection before moving it into
 * `audit.events` (PostgreSQL refuses COPY into a table under row-level security), so the
 * runtime role needs to create temporary tables in this database. PostgreSQL grants that to
 * every role unless it was revoked; the grant is made here so that a hardened database, where
 * it was, still takes audit events.
 */
export class AuditStagingGrant1766000000000 implements MigrationInterface {
  name = 'AuditStagingGrant1766000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$ BEGIN
        EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO ${runtimeRole('audit')}', current_database());
      END $$`);
  }

  /** Leaves the grant: it may have been there before, as PostgreSQL's default. */
  async down(): Promise<void> {}
}
