import type { MigrationInterface, QueryRunner } from 'typeorm';
import { directoryIsolationSql, runtimeRole, tenantIsolationSql } from '@lattice/database';

/** The only role that may delete audit rows, and only through `audit.remove_segment`. */
export const RETENTION_ROLE = 'lattice_audit_retention';

export class AuditInitial1764000000000 implements MigrationInterface {
  name = 'AuditInitial1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit.events (
        tenant_id uuid NOT NULL,
        seq bigint NOT NULL CHECK (seq > 0),
        id uuid NOT NULL,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL,
        actor_type text NOT NULL,
        actor_id text NOT NULL,
        actor_key uuid,
        actor_roles jsonb NOT NULL,
        action text NOT NULL,
        resource_type text NOT NULL,
        resource_id text,
        outcome text NOT NULL,
        source_ip text,
        user_agent text,
        request_id text,
        trace_id text,
        metadata jsonb NOT NULL,
        personal jsonb NOT NULL,
        subject_key uuid,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        PRIMARY KEY (tenant_id, seq)
      )`);
    // redelivery never writes an event twice: its id is unique within its tenant's trail
    await q.query(`CREATE UNIQUE INDEX events_id_key ON audit.events (tenant_id, id)`);
    await q.query(`CREATE INDEX events_time_idx ON audit.events (tenant_id, occurred_at, seq)`);
    await q.query(`CREATE INDEX events_action_idx ON audit.events (tenant_id, action, seq)`);
    await q.query(
      `CREATE INDEX events_resource_idx ON audit.events (tenant_id, resource_type, resource_id, seq)`,
    );
    await q.query(
      `CREATE INDEX events_actor_key_idx ON audit.events (tenant_id, actor_key) WHERE actor_key IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX events_subject_key_idx ON audit.events (tenant_id, subject_key) WHERE subject_key IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX events_actor_idx ON audit.events (tenant_id, actor_id) WHERE actor_key IS NULL`,
    );
    for (const sql of tenantIsolationSql('audit', 'events')) await q.query(sql);

    // one row per tenant, locked while a batch extends the chain, so chains never fork
    await q.query(`
      CREATE TABLE audit.chain_heads (
        tenant_id uuid PRIMARY KEY,
        seq bigint NOT NULL,
        hash text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    for (const sql of directoryIsolationSql('audit', 'chain_heads', 'tenant_id'))
      await q.query(sql);

    await q.query(`
      CREATE TABLE audit.checkpoints (
        tenant_id uuid NOT NULL,
        seq bigint NOT NULL,
        hash text NOT NULL,
        signed_at timestamptz NOT NULL,
        key_id text NOT NULL,
        signature text NOT NULL,
        PRIMARY KEY (tenant_id, seq)
      )`);
    for (const sql of tenantIsolationSql('audit', 'checkpoints')) await q.query(sql);

    // wrapped_key is null for an erased subject: later events about them are sealed under a
    // key that is never kept
    await q.query(`
      CREATE TABLE audit.subject_keys (
        tenant_id uuid NOT NULL,
        key_id uuid NOT NULL,
        lookup text NOT NULL,
        wrapped_key text,
        created_at timestamptz NOT NULL DEFAULT now(),
        erased_at timestamptz,
        PRIMARY KEY (tenant_id, key_id),
        CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL))
      )`);
    await q.query(
      `CREATE UNIQUE INDEX subject_keys_lookup_key ON audit.subject_keys (tenant_id, lookup)`,
    );
    for (const sql of tenantIsolationSql('audit', 'subject_keys')) await q.query(sql);

    await q.query(`
      CREATE TABLE audit.consents (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        subject_key uuid NOT NULL,
        subject_id text NOT NULL,
        purpose text NOT NULL,
        policy_version text NOT NULL,
        granted boolean NOT NULL,
        recorded_at timestamptz NOT NULL,
        recorded_by_type text NOT NULL,
        recorded_by_key uuid,
        recorded_by_id text NOT NULL,
        PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(
      `CREATE INDEX consents_subject_idx ON audit.consents (tenant_id, subject_key, recorded_at, id)`,
    );
    for (const sql of tenantIsolationSql('audit', 'consents')) await q.query(sql);

    // append-only for everyone, the owner included; only the retention role may delete, and
    // only through remove_segment below
    await q.query(`
      CREATE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND current_user = '${RETENTION_ROLE}' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit records are append-only: % on %.% refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
          USING ERRCODE = '42501';
      END $$`);
    for (const table of ['events', 'checkpoints', 'consents']) {
      await q.query(
        `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON audit.${table}
         FOR EACH ROW EXECUTE FUNCTION audit.refuse_change()`,
      );
      await q.query(
        `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON audit.${table}
         FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()`,
      );
    }

    await q.query(`
      DO $$ BEGIN
        CREATE ROLE ${RETENTION_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$`);
    await q.query(`GRANT ${RETENTION_ROLE} TO CURRENT_USER`);
    await q.query(`GRANT USAGE ON SCHEMA audit TO ${RETENTION_ROLE}`);
    await q.query(`GRANT SELECT, DELETE ON audit.events, audit.checkpoints TO ${RETENTION_ROLE}`);
    /*
     * Retention, the one way rows leave: the events of one tenant up to a signed checkpoint,
     * which stays as the anchor the rest of the chain verifies from. It refuses to cut
     * anywhere but at a checkpoint, and refuses events less than a day old.
     */
    await q.query(`
      CREATE FUNCTION audit.remove_segment(p_tenant uuid, p_through_seq bigint) RETURNS bigint
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, audit AS $$
      DECLARE removed bigint;
      BEGIN
        IF p_tenant IS DISTINCT FROM NULLIF(current_setting('app.tenant_id', true), '')::uuid THEN
          RAISE EXCEPTION 'retention runs in the tenant''s own scope' USING ERRCODE = '42501';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM audit.checkpoints WHERE tenant_id = p_tenant AND seq = p_through_seq) THEN
          RAISE EXCEPTION 'events are removed only up to a checkpoint' USING ERRCODE = '22023';
        END IF;
        IF EXISTS (
          SELECT 1 FROM audit.events
           WHERE tenant_id = p_tenant AND seq <= p_through_seq AND occurred_at > now() - interval '1 day'
        ) THEN
          RAISE EXCEPTION 'events less than a day old are never removed' USING ERRCODE = '22023';
        END IF;
        DELETE FROM audit.events WHERE tenant_id = p_tenant AND seq <= p_through_seq;
        GET DIAGNOSTICS removed = ROW_COUNT;
        DELETE FROM audit.checkpoints WHERE tenant_id = p_tenant AND seq < p_through_seq;
        RETURN removed;
      END $$`);
    await q.query(`ALTER FUNCTION audit.remove_segment(uuid, bigint) OWNER TO ${RETENTION_ROLE}`);
    await q.query(`REVOKE ALL ON FUNCTION audit.remove_segment(uuid, bigint) FROM PUBLIC`);
    await q.query(
      `GRANT EXECUTE ON FUNCTION audit.remove_segment(uuid, bigint) TO ${runtimeRole('audit')}`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION audit.remove_segment(uuid, bigint)`);
    await q.query(`DROP TABLE audit.consents, audit.subject_keys, audit.checkpoints`);
    await q.query(`DROP TABLE audit.chain_heads, audit.events`);
    await q.query(`DROP FUNCTION audit.refuse_change()`);
    await q.query(`REVOKE ALL ON SCHEMA audit FROM ${RETENTION_ROLE}`);
  }
}
