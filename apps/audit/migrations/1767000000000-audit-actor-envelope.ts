import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What identifies the person acting (a user's id, the source address and user agent) is sealed
 * as one envelope under their key, in `actor_sealed`, instead of each field on its own: one
 * seal per event instead of up to three. Rows written before keep their fields sealed one by
 * one (and `actor_sealed` NULL); both are read, and erased, alike.
 */
export class AuditActorEnvelope1767000000000 implements MigrationInterface {
  name = 'AuditActorEnvelope1767000000000';

  async up(q: QueryRunner): Promise<void> {
    // a nullable column without a default: no row is rewritten
    await q.query(`ALTER TABLE audit.events ADD COLUMN actor_sealed text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit.events DROP COLUMN actor_sealed`);
  }
}
