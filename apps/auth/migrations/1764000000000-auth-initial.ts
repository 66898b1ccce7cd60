import type { MigrationInterface, QueryRunner } from 'typeorm';
import { directoryIsolationSql, tenantIsolationSql } from '@lattice/database';

export class AuthInitial1764000000000 implements MigrationInterface {
  name = 'AuthInitial1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE auth.users (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        email text NOT NULL CHECK (email = lower(email)),
        display_name text,
        password_hash text NOT NULL,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'locked', 'disabled')),
        failed_attempts integer NOT NULL DEFAULT 0,
        locked_until timestamptz,
        last_login_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        UNIQUE (id)
      )`);
    // unique per tenant, and led by the tenant so a clash never reveals another tenant's user
    await q.query(`CREATE UNIQUE INDEX users_email_key ON auth.users (tenant_id, email)`);
    for (const sql of tenantIsolationSql('auth', 'users')) await q.query(sql);

    await q.query(`
      CREATE TABLE auth.service_accounts (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        name text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, name),
        UNIQUE (id)
      )`);
    for (const sql of tenantIsolationSql('auth', 'service_accounts')) await q.query(sql);

    await q.query(`
      CREATE TABLE auth.roles (
        tenant_id uuid NOT NULL,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        permissions text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, name)
      )`);
    for (const sql of tenantIsolationSql('auth', 'roles')) await q.query(sql);

    // a principal is a user or a service account of the same tenant
    await q.query(`
      CREATE TABLE auth.role_bindings (
        tenant_id uuid NOT NULL,
        principal_id uuid NOT NULL,
        role text NOT NULL,
        granted_by text NOT NULL,
        granted_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, principal_id, role)
      )`);
    for (const sql of tenantIsolationSql('auth', 'role_bindings')) await q.query(sql);

    await q.query(`
      CREATE TABLE auth.refresh_tokens (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL,
        family_id uuid NOT NULL,
        parent_id uuid,
        user_id uuid NOT NULL,
        secret_hash bytea NOT NULL,
        issued_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz,
        revoked_at timestamptz,
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, user_id) REFERENCES auth.users (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query(
      `CREATE INDEX refresh_tokens_family_idx ON auth.refresh_tokens (tenant_id, family_id)`,
    );
    for (const sql of tenantIsolationSql('auth', 'refresh_tokens')) await q.query(sql);

    // found by prefix before the tenant is known, so the key lookup is platform-scoped work
    await q.query(`
      CREATE TABLE auth.api_keys (
        tenant_id uuid NOT NULL,
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        prefix text NOT NULL UNIQUE,
        secret_hash bytea NOT NULL,
        name text NOT NULL,
        owner_type text NOT NULL CHECK (owner_type IN ('user', 'service-account')),
        owner_id uuid NOT NULL,
        permissions text[] NOT NULL,
        expires_at timestamptz,
        last_used_at timestamptz,
        revoked_at timestamptz,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, id)
      )`);
    await q.query(`CREATE INDEX api_keys_owner_idx ON auth.api_keys (tenant_id, owner_id)`);
    for (const sql of directoryIsolationSql('auth', 'api_keys', 'tenant_id')) await q.query(sql);

    // the platform's own keys, not any tenant's: private halves are envelope-encrypted
    await q.query(`
      CREATE TABLE auth.signing_keys (
        kid text PRIMARY KEY,
        alg text NOT NULL,
        public_jwk jsonb NOT NULL,
        private_jwk_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz,
        verify_until timestamptz
      )`);
    await q.query(
      `CREATE UNIQUE INDEX signing_keys_one_active ON auth.signing_keys ((true)) WHERE retired_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'signing_keys',
      'api_keys',
      'refresh_tokens',
      'role_bindings',
      'roles',
      'service_accounts',
      'users',
    ])
      await q.query(`DROP TABLE auth.${table}`);
  }
}
