import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The usage outbox keeps a report's `messageId` as USAGE does, as text: the shared relay
 * (`UsageOutbox` in `@lattice/messaging`) reads every service's outbox alike.
 */
export class UsageMessageIds1766300000000 implements MigrationInterface {
  name = 'UsageMessageIds1766300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE scheduler.usage_outbox ALTER COLUMN event_id TYPE text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE scheduler.usage_outbox ALTER COLUMN event_id TYPE uuid USING event_id::uuid`,
    );
  }
}
