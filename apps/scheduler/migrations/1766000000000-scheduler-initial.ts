import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dispatchAccessSql, tenantIsolationSql } from '@lattice/database';

export class SchedulerInitial1766000000000 implements MigrationInterface {
  name = 'SchedulerInitial1766000000000';

  async up(q: QueryRunner): Promise<void> {
    // platform-owned: declared by operators, read by every tenant
    await q.query(`
      CREATE TABLE scheduler.queues (
        name text PRIMARY KEY,
        description text,
        worker_pool text NOT NULL,
        max_tenant_share double precision NOT NULL DEFAULT 0.2
          CHECK (max_tenant_share > 0 AND max_tenant_share <= 1),
        default_timeout_seconds integer NOT NULL DEFAULT 600 CHECK (default_timeout_seconds > 0),
        default_max_attempts integer NOT NULL DEFAULT 3 CHECK (default_max_attempts > 0),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);

    // platform-owned: the worker processes and the slots they bring to a queue
    await q.query(`
      CREATE TABLE scheduler.workers (
        id text PRIMARY KEY,
        queue text NOT NULL REFERENCES scheduler.queues (name),
        concurrency integer NOT NULL CHECK (concurrency > 0),
        draining boolean NOT NULL DEFAULT false,
        registered_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX workers_queue_idx ON scheduler.workers (queue, last_seen_at)`);

    await q.query(`
      CREATE TABLE scheduler.jobs (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        -- the user or service account that submitted it, for own-scope permissions
        owner_id text NOT NULL,
        queue text NOT NULL REFERENCES scheduler.queues (name),
        type text NOT NULL,
        payload jsonb NOT NULL DEFAULT '{}'
          CHECK (octet_length(payload::text) <= 131072),
        priority text NOT NULL CHECK (priority IN ('interactive', 'standard', 'batch')),
        state text NOT NULL CHECK (state IN
          ('queued', 'leased', 'running', 'succeeded', 'failed', 'cancelled', 'dead')),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        max_attempts integer NOT NULL CHECK (max_attempts > 0),
        timeout_seconds integer NOT NULL CHECK (timeout_seconds > 0),
        not_before timestamptz NOT NULL,
        -- the job's place in its tenant's line (the fair-share core's jobOrderKey), fixed at submit
        order_key bigint NOT NULL,
        idempotency_key text,
        request_hash text,
        labels jsonb NOT NULL DEFAULT '{}',
        lease_owner text,
        lease_expires_at timestamptz,
        result jsonb,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        CHECK ((state IN ('leased', 'running')) = (lease_owner IS NOT NULL)),
        CHECK ((lease_owner IS NULL) = (lease_expires_at IS NULL))
      )`);
    await q.query(`CREATE INDEX jobs_tenant_idx ON scheduler.jobs (tenant_id, created_at, id)`);
    await q.query(
      `CREATE UNIQUE INDEX jobs_idempotency_key ON scheduler.jobs (tenant_id, idempotency_key)
         WHERE idempotency_key IS NOT NULL`,
    );
    // dispatch: each tenant's line of ready jobs in a queue, and the held leases by expiry
    await q.query(
      `CREATE INDEX jobs_queued_idx ON scheduler.jobs (queue, tenant_id, order_key, id)
         WHERE state = 'queued'`,
    );
    await q.query(
      `CREATE INDEX jobs_held_idx ON scheduler.jobs (queue, tenant_id)
         WHERE state IN ('leased', 'running')`,
    );
    await q.query(
      `CREATE INDEX jobs_lease_expiry_idx ON scheduler.jobs (lease_expires_at)
         WHERE lease_expires_at IS NOT NULL`,
    );
    for (const sql of tenantIsolationSql('scheduler', 'jobs')) await q.query(sql);
    for (const sql of dispatchAccessSql('scheduler', 'jobs')) await q.query(sql);

    await q.query(`
      CREATE TABLE scheduler.job_transitions (
        id bigserial PRIMARY KEY,
        tenant_id uuid NOT NULL,
        job_id uuid NOT NULL REFERENCES scheduler.jobs (id) ON DELETE CASCADE,
        from_state text,
        to_state text NOT NULL,
        attempt integer NOT NULL,
        worker_id text,
        error text,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX job_transitions_job_idx ON scheduler.job_transitions (tenant_id, job_id, id)`,
    );
    for (const sql of tenantIsolationSql('scheduler', 'job_transitions')) await q.query(sql);
    for (const sql of dispatchAccessSql('scheduler', 'job_transitions')) await q.query(sql);

    // JOB_EVENTS wait here, written with the change they describe, until the relay publishes them
    await q.query(`
      CREATE TABLE scheduler.outbox (
        id bigserial PRIMARY KEY,
        tenant_id uuid NOT NULL,
        event_id uuid NOT NULL,
        subject_suffix text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX outbox_tenant_idx ON scheduler.outbox (tenant_id)`);
    for (const sql of tenantIsolationSql('scheduler', 'outbox')) await q.query(sql);
    for (const sql of dispatchAccessSql('scheduler', 'outbox')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE scheduler.outbox`);
    await q.query(`DROP TABLE scheduler.job_transitions`);
    await q.query(`DROP TABLE scheduler.jobs`);
    await q.query(`DROP TABLE scheduler.workers`);
    await q.query(`DROP TABLE scheduler.queues`);
  }
}
