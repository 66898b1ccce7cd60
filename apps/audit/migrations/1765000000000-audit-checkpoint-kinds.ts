import type { MigrationInterface, QueryRunner } from 'typeorm';
import { tenantIsolationSql } from '@lattice/database';

/**
 * Tells retention cuts from periodic checkpoints, and gives events that cannot join their
 * chain somewhere to wait instead of being lost or retried forever.
 *
 * A checkpoint's kind is covered by its signature: only a `retention` checkpoint may anchor a
 * chain whose first events are gone, so deleting the oldest events by hand down to a periodic
 * checkpoint no longer passes for retention. Both kinds may stand at the same sequence number
 * (retention often cuts where a periodic checkpoint already is).
 */
export class AuditCheckpointKinds1765000000000 implements MigrationInterface {
  name = 'AuditCheckpointKinds1765000000000';

  async up(q: QueryRunner): Promise<void> {
    // checkpoints signed before kinds existed are periodic: their signatures still verify
    await q.query(`
      ALTER TABLE audit.checkpoints
        ADD COLUMN kind text NOT NULL DEFAULT 'periodic' CHECK (kind IN ('periodic', 'retention'))`);
    await q.query(`ALTER TABLE audit.checkpoints ALTER COLUMN kind DROP DEFAULT`);
    await q.query(`
      ALTER TABLE audit.checkpoints
        DROP CONSTRAINT checkpoints_pkey,
        ADD PRIMARY KEY (tenant_id, seq, kind)`);
    await q.query(removeSegment({ retentionOnly: true }));

    /*
     * Events whose chain cannot be extended because rows are stored past its head (someone
     * wrote to the table by hand). They wait here, sealed exactly as they would be stored, in
     * arrival order, and join the chain on the first batch after it is repaired.
     */
    await q.query(`
      CREATE TABLE audit.parked_events (
        tenant_id uuid NOT NULL,
        position bigint GENERATED ALWAYS AS IDENTITY,
        id uuid NOT NULL,
        parked_at timestamptz NOT NULL DEFAULT now(),
        reason text NOT NULL,
        event jsonb NOT NULL,
        PRIMARY KEY (tenant_id, position)
      )`);
    await q.query(
      `CREATE UNIQUE INDEX parked_events_id_key ON audit.parked_events (tenant_id, id)`,
    );
    for (const sql of tenantIsolationSql('audit', 'parked_events')) await q.query(sql);
  }

  /** Fails (and changes nothing) where a retention checkpoint shares a periodic one's seq. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit.parked_events`);
    await q.query(removeSegment({ retentionOnly: false }));
    await q.query(`
      ALTER TABLE audit.checkpoints
        DROP CONSTRAINT checkpoints_pkey,
        ADD PRIMARY KEY (tenant_id, seq),
        DROP COLUMN kind`);
  }
}

/**
 * Retention, the one way rows leave (see the initial migration): with `retentionOnly`, it cuts
 * only at a retention checkpoint, and keeps that one as the anchor. CREATE OR REPLACE keeps
 * the function's owner (the retention role) and its grants.
 */
function removeSegment({ retentionOnly }: { retentionOnly: boolean }): string {
  const kind = retentionOnly ? ` AND kind = 'retention'` : '';
  const what = retentionOnly ? 'a retention checkpoint' : 'a checkpoint';
  const stale = retentionOnly
    ? `seq < p_through_seq OR (seq = p_through_seq AND kind <> 'retention')`
    : `seq < p_through_seq`;
  return `
    CREATE OR REPLACE FUNCTION audit.remove_segment(p_tenant uuid, p_through_seq bigint) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, audit AS $$
    DECLARE removed bigint;
    BEGIN
      IF p_tenant IS DISTINCT FROM NULLIF(current_setting('app.tenant_id', true), '')::uuid THEN
        RAISE EXCEPTION 'retention runs in the tenant''s own scope' USING ERRCODE = '42501';
      END IF;
      IF NOT EXISTS (
        SELECT 1 FROM audit.checkpoints WHERE tenant_id = p_tenant AND seq = p_through_seq${kind}
      ) THEN
        RAISE EXCEPTION 'events are removed only up to ${what}' USING ERRCODE = '22023';
      END IF;
      IF EXISTS (
        SELECT 1 FROM audit.events
         WHERE tenant_id = p_tenant AND seq <= p_through_seq AND occurred_at > now() - interval '1 day'
      ) THEN
        RAISE EXCEPTION 'events less than a day old are never removed' USING ERRCODE = '22023';
      END IF;
      DELETE FROM audit.events WHERE tenant_id = p_tenant AND seq <= p_through_seq;
      GET DIAGNOSTICS removed = ROW_COUNT;
      DELETE FROM audit.checkpoints WHERE tenant_id = p_tenant AND (${stale});
      RETURN removed;
    END $$`;
}
