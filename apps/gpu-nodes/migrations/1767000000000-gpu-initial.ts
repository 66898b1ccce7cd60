import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dispatchAccessSql, tenantIsolationSql } from '@lattice/database';

export class GpuInitial1767000000000 implements MigrationInterface {
  name = 'GpuInitial1767000000000';

  async up(q: QueryRunner): Promise<void> {
    // platform-owned: the fleet, registered by its agents or by operators
    await q.query(`
      CREATE TABLE gpu.nodes (
        id uuid PRIMARY KEY,
        name text NOT NULL UNIQUE,
        kube_node text,
        labels jsonb NOT NULL DEFAULT '{}',
        serves jsonb NOT NULL DEFAULT '[]',
        state text NOT NULL DEFAULT 'offline'
          CHECK (state IN ('healthy', 'degraded', 'unhealthy', 'draining', 'offline')),
        score double precision NOT NULL DEFAULT 0 CHECK (score >= 0 AND score <= 1),
        -- the state by health alone, under any drain
        health text NOT NULL DEFAULT 'offline'
          CHECK (health IN ('healthy', 'degraded', 'unhealthy', 'offline')),
        -- good heartbeats a node that left still needs before it rejoins
        rejoin_in integer NOT NULL DEFAULT 1 CHECK (rejoin_in >= 0),
        cordoned boolean NOT NULL DEFAULT false,
        draining boolean NOT NULL DEFAULT false,
        source text,
        driver_version text,
        source_error text,
        interval_ms integer,
        -- what callers reported of the routes it was given, in the current window
        caller_calls integer NOT NULL DEFAULT 0,
        caller_failures integer NOT NULL DEFAULT 0,
        caller_window_started_at timestamptz NOT NULL DEFAULT now(),
        last_heartbeat_at timestamptz,
        registered_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX nodes_heartbeat_idx ON gpu.nodes (last_heartbeat_at)`);

    await q.query(`
      CREATE TABLE gpu.gpus (
        uuid text PRIMARY KEY,
        node_id uuid NOT NULL REFERENCES gpu.nodes (id) ON DELETE CASCADE,
        index integer NOT NULL,
        model text NOT NULL,
        pci_bus_id text,
        total_mib integer NOT NULL CHECK (total_mib >= 0),
        reserved_mib integer NOT NULL DEFAULT 0 CHECK (reserved_mib >= 0),
        used_mib integer NOT NULL DEFAULT 0 CHECK (used_mib >= 0),
        free_mib integer NOT NULL DEFAULT 0 CHECK (free_mib >= 0),
        utilization_percent double precision,
        temperature_c double precision,
        slowdown_temperature_c double precision,
        power_watts double precision,
        last_xid integer,
        ecc_uncorrectable integer,
        remapped_rows_uncorrectable integer,
        row_remap_failed boolean,
        lost boolean NOT NULL DEFAULT false,
        score double precision NOT NULL DEFAULT 1 CHECK (score >= 0 AND score <= 1),
        sampled_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX gpus_node_idx ON gpu.gpus (node_id, index)`);

    // tenant-owned: VRAM held on a GPU, placed across every tenant's leases (the dispatch scope)
    await q.query(`
      CREATE TABLE gpu.leases (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        owner_id text NOT NULL,
        node_id uuid NOT NULL REFERENCES gpu.nodes (id),
        gpu_uuid text NOT NULL REFERENCES gpu.gpus (uuid),
        vram_mib integer NOT NULL CHECK (vram_mib > 0),
        charged_mib integer NOT NULL CHECK (charged_mib >= vram_mib),
        model text,
        holder_namespace text,
        holder_kind text,
        holder_name text,
        state text NOT NULL CHECK (state IN ('active', 'released', 'expired', 'lost')),
        ttl_seconds integer NOT NULL CHECK (ttl_seconds > 0),
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        ended_at timestamptz,
        end_reason text,
        CHECK ((state = 'active') = (ended_at IS NULL))
      )`);
    await q.query(`CREATE INDEX leases_tenant_idx ON gpu.leases (tenant_id, created_at, id)`);
    await q.query(
      `CREATE INDEX leases_active_gpu_idx ON gpu.leases (gpu_uuid) WHERE state = 'active'`,
    );
    await q.query(
      `CREATE INDEX leases_active_expiry_idx ON gpu.leases (expires_at) WHERE state = 'active'`,
    );
    await q.query(
      `CREATE INDEX leases_active_node_idx ON gpu.leases (node_id) WHERE state = 'active'`,
    );
    for (const sql of tenantIsolationSql('gpu', 'leases')) await q.query(sql);
    for (const sql of dispatchAccessSql('gpu', 'leases')) await q.query(sql);

    // GPU-seconds for USAGE wait here, written with the lease's end, until the relay sends them
    await q.query(`
      CREATE TABLE gpu.outbox (
        id bigserial PRIMARY KEY,
        tenant_id uuid NOT NULL,
        event_id text NOT NULL,
        subject_suffix text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX outbox_tenant_idx ON gpu.outbox (tenant_id)`);
    for (const sql of tenantIsolationSql('gpu', 'outbox')) await q.query(sql);
    for (const sql of dispatchAccessSql('gpu', 'outbox')) await q.query(sql);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE gpu.outbox`);
    await q.query(`DROP TABLE gpu.leases`);
    await q.query(`DROP TABLE gpu.gpus`);
    await q.query(`DROP TABLE gpu.nodes`);
  }
}
