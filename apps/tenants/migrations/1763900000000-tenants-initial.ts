import type { MigrationInterface, QueryRunner } from 'typeorm';
import { directoryIsolationSql, tenantIsolationSql } from '@lattice/database';

export class TenantsInitial1763900000000 implements MigrationInterface {
  name = 'TenantsInitial1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants.tenants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        slug text NOT NULL,
        name text NOT NULL,
        plan text NOT NULL CHECK (plan IN ('starter', 'professional', 'enterprise', 'custom')),
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
        settings jsonb NOT NULL DEFAULT '{}',
        quota_overrides jsonb NOT NULL DEFAULT '{}',
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        suspended_at timestamptz,
        deleted_at timestamptz,
        purge_after timestamptz,
        CHECK ((status = 'deleted') = (deleted_at IS NOT NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX tenants_slug_key ON tenants.tenants (slug)`);
    await q.query(`CREATE INDEX tenants_created_idx ON tenants.tenants (created_at, id)`);
    await q.query(
      `CREATE INDEX tenants_purge_idx ON tenants.tenants (purge_after) WHERE purge_after IS NOT NULL`,
    );
    for (const sql of directoryIsolationSql('tenants', 'tenants', 'id')) await q.query(sql);

    await q.query(`
      CREATE TABLE tenants.usage_events (
        tenant_id uuid NOT NULL REFERENCES tenants.tenants (id) ON DELETE CASCADE,
        message_id text NOT NULL,
        resource text NOT NULL CHECK (resource IN ('tokens', 'gpuSeconds', 'storageBytes')),
        amount bigint NOT NULL,
        period text NOT NULL,
        source text NOT NULL,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, message_id)
      )`);
    for (const sql of tenantIsolationSql('tenants', 'usage_events')) await q.query(sql);

    await q.query(`
      CREATE TABLE tenants.usage_meters (
        tenant_id uuid NOT NULL REFERENCES tenants.tenants (id) ON DELETE CASCADE,
        resource text NOT NULL,
        period text NOT NULL,
        used bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, resource, period)
      )`);
    for (const sql of tenantIsolationSql('tenants', 'usage_meters')) await q.query(sql);

    // events wait here, written in the same transaction as the change, until they are published
    await q.query(`
      CREATE TABLE tenants.outbox (
        id bigserial PRIMARY KEY,
        tenant_id uuid NOT NULL,
        event_id uuid NOT NULL,
        subject_suffix text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX outbox_tenant_idx ON tenants.outbox (tenant_id)`);
    for (const sql of directoryIsolationSql('tenants', 'outbox', 'tenant_id')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE tenants.outbox`);
    await q.query(`DROP TABLE tenants.usage_meters`);
    await q.query(`DROP TABLE tenants.usage_events`);
    await q.query(`DROP TABLE tenants.tenants`);
  }
}
