import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type {
  GpuNodeHeartbeat,
  GpuNodeState,
  GpuServedModel,
  RegisterGpuNodeRequest,
} from '@lattice/contracts';

/** A node as the registry keeps it. */
export interface NodeRow {
  id: string;
  name: string;
  kubeNode: string | null;
  labels: Record<string, string>;
  serves: GpuServedModel[];
  state: GpuNodeState;
  score: number;
  health: Exclude<GpuNodeState, 'draining'>;
  rejoinIn: number;
  cordoned: boolean;
  draining: boolean;
  source: string | null;
  driverVersion: string | null;
  sourceError: string | null;
  intervalMs: number | null;
  callerCalls: number;
  callerFailures: number;
  callerWindowStartedAt: Date;
  lastHeartbeatAt: Date | null;
  registeredAt: Date;
  updatedAt: Date;
}

/** A GPU with its latest reading and what its active leases hold. */
export interface GpuRow {
  uuid: string;
  nodeId: string;
  index: number;
  model: string;
  pciBusId: string | null;
  totalMiB: number;
  reservedMiB: number;
  usedMiB: number;
  freeMiB: number;
  utilizationPercent: number | null;
  temperatureC: number | null;
  slowdownTemperatureC: number | null;
  powerWatts: number | null;
  lastXid: number | null;
  eccUncorrectable: number | null;
  remappedRowsUncorrectable: number | null;
  rowRemapFailed: boolean | null;
  lost: boolean;
  score: number;
  sampledAt: Date | null;
  leasedMiB: number;
  leaseCount: number;
}

export interface NodeHealthChange {
  state: GpuNodeState;
  health: Exclude<GpuNodeState, 'draining'>;
  rejoinIn: number;
  score: number;
}

const NODE_COLUMNS = `
  n.id, n.name, n.kube_node AS "kubeNode", n.labels, n.serves, n.state, n.score,
  n.health, n.rejoin_in AS "rejoinIn", n.cordoned, n.draining, n.source,
  n.driver_version AS "driverVersion", n.source_error AS "sourceError",
  n.interval_ms AS "intervalMs", n.caller_calls AS "callerCalls",
  n.caller_failures AS "callerFailures", n.caller_window_started_at AS "callerWindowStartedAt",
  n.last_heartbeat_at AS "lastHeartbeatAt", n.registered_at AS "registeredAt",
  n.updated_at AS "updatedAt"`;

/** How a transaction holds a node it changes: against other changes, not against references. */
const NODE_LOCK = ' FOR NO KEY UPDATE';

const GPU_COLUMNS = `
  g.uuid, g.node_id AS "nodeId", g.index, g.model, g.pci_bus_id AS "pciBusId",
  g.total_mib AS "totalMiB", g.reserved_mib AS "reservedMiB", g.used_mib AS "usedMiB",
  g.free_mib AS "freeMiB", g.utilization_percent AS "utilizationPercent",
  g.temperature_c AS "temperatureC", g.slowdown_temperature_c AS "slowdownTemperatureC",
  g.power_watts AS "powerWatts", g.last_xid AS "lastXid",
  g.ecc_uncorrectable AS "eccUncorrectable",
  g.remapped_rows_uncorrectable AS "remappedRowsUncorrectable",
  g.row_remap_failed AS "rowRemapFailed", g.lost, g.score, g.sampled_at AS "sampledAt"`;

/**
 * The registry: nodes and their GPUs (platform-owned tables). What leases hold is summed from
 * the leases table, so the GPU queries run in the dispatch scope, which sees every tenant's.
 */
@Injectable()
export class NodeRepository {
  /** Makes the node known if it is not; true when this call added it. */
  async ensure(em: EntityManager, id: string, name: string, at: Date): Promise<boolean> {
    const rows: unknown[] = await em.query(
      `WITH added AS (
         INSERT INTO gpu.nodes (id, name, registered_at, updated_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (name) DO NOTHING RETURNING id)
       SELECT id FROM added`,
      [id, name, at],
    );
    return rows.length > 0;
  }

  /**
   * The node, locked against concurrent changes until the transaction ends when `lock`. The lock
   * leaves the node's key alone (FOR NO KEY UPDATE), so a lease placed on it meanwhile, whose
   * reference to the node takes a key-share lock, is not held up: a heartbeat holding the node
   * and waiting for its GPUs, which the placement holds, would otherwise wait on each other.
   */
  async byName(em: EntityManager, name: string, lock = false): Promise<NodeRow | null> {
    const rows: NodeRow[] = await em.query(
      `SELECT ${NODE_COLUMNS} FROM gpu.nodes n WHERE n.name = $1${lock ? NODE_LOCK : ''}`,
      [name],
    );
    return rows[0] ?? null;
  }

  /** The node, locked as `byName` locks it when `lock`. */
  async byId(em: EntityManager, id: string, lock = false): Promise<NodeRow | null> {
    const rows: NodeRow[] = await em.query(
      `SELECT ${NODE_COLUMNS} FROM gpu.nodes n WHERE n.id = $1${lock ? NODE_LOCK : ''}`,
      [id],
    );
    return rows[0] ?? null;
  }

  async list(
    em: EntityManager,
    filter: { state?: GpuNodeState; model?: string },
  ): Promise<NodeRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.state) {
      params.push(filter.state);
      where.push(`n.state = $${params.length}`);
    }
    if (filter.model) {
      params.push(JSON.stringify([{ model: filter.model }]));
      where.push(`n.serves @> $${params.length}::jsonb`);
    }
    return em.query(
      `SELECT ${NODE_COLUMNS} FROM gpu.nodes n ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY n.name`,
      params,
    );
  }

  /** What an operator says of a node: its labels and the models it serves. */
  async describe(
    em: EntityManager,
    id: string,
    request: RegisterGpuNodeRequest,
    at: Date,
  ): Promise<NodeRow> {
    const rows: NodeRow[] = await em.query(
      `WITH n AS (
         UPDATE gpu.nodes SET labels = $2, serves = $3,
           kube_node = COALESCE($4, kube_node), updated_at = $5
          WHERE id = $1 RETURNING *)
       SELECT ${NODE_COLUMNS} FROM n`,
      [
        id,
        JSON.stringify(request.labels),
        JSON.stringify(request.serves),
        request.kubeNode ?? null,
        at,
      ],
    );
    return rows[0]!;
  }

  /** What a heartbeat says of the node itself. */
  async beat(em: EntityManager, id: string, heartbeat: GpuNodeHeartbeat, at: Date): Promise<void> {
    await em.query(
      `UPDATE gpu.nodes SET kube_node = COALESCE($2, kube_node), source = $3,
         driver_version = $4, source_error = $5, interval_ms = $6, last_heartbeat_at = $7,
         updated_at = $7
        WHERE id = $1`,
      [
        id,
        heartbeat.kubeNode,
        heartbeat.source,
        heartbeat.driverVersion,
        heartbeat.sourceError,
        heartbeat.intervalMs,
        at,
      ],
    );
  }

  /**
   * Writes every GPU of the heartbeat, adding those not seen before, in the order of their uuids
   * (that in which `lockAllGpus` locks them), not the agent's: two transactions locking the same
   * cards in different orders can each hold what the other waits for.
   */
  async saveReadings(
    em: EntityManager,
    nodeId: string,
    heartbeat: GpuNodeHeartbeat,
    scores: ReadonlyMap<string, number>,
  ): Promise<void> {
    if (heartbeat.gpus.length === 0) return;
    const rows = heartbeat.gpus.map((g) => ({ ...g, score: scores.get(g.uuid) ?? 0 }));
    await em.query(
      `INSERT INTO gpu.gpus AS g (uuid, node_id, index, model, pci_bus_id, total_mib, reserved_mib,
         used_mib, free_mib, utilization_percent, temperature_c, slowdown_temperature_c,
         power_watts, last_xid, ecc_uncorrectable, remapped_rows_uncorrectable, row_remap_failed,
         lost, score, sampled_at, updated_at)
       SELECT r.uuid, $1, r.index, r.model, r."pciBusId", r."totalMiB", r."reservedMiB",
         r."usedMiB", r."freeMiB", r."utilizationPercent", r."temperatureC",
         r."slowdownTemperatureC", r."powerWatts", r."lastXid", r."eccUncorrectable",
         r."remappedRowsUncorrectable", r."rowRemapFailed", r.lost, r.score, $3, now()
         FROM jsonb_to_recordset($2::jsonb) AS r (uuid text, index int, model text,
           "pciBusId" text, "totalMiB" int, "reservedMiB" int, "usedMiB" int, "freeMiB" int,
           "utilizationPercent" float8, "temperatureC" float8, "slowdownTemperatureC" float8,
           "powerWatts" float8, "lastXid" int, "eccUncorrectable" int,
           "remappedRowsUncorrectable" int, "rowRemapFailed" boolean, lost boolean, score float8)
        ORDER BY r.uuid
       ON CONFLICT (uuid) DO UPDATE SET node_id = excluded.node_id, index = excluded.index,
         model = excluded.model, pci_bus_id = excluded.pci_bus_id, total_mib = excluded.total_mib,
         reserved_mib = excluded.reserved_mib, used_mib = excluded.used_mib,
         free_mib = excluded.free_mib, utilization_percent = excluded.utilization_percent,
         temperature_c = excluded.temperature_c,
         slowdown_temperature_c = excluded.slowdown_temperature_c,
         power_watts = excluded.power_watts, last_xid = excluded.last_xid,
         ecc_uncorrectable = excluded.ecc_uncorrectable,
         remapped_rows_uncorrectable = excluded.remapped_rows_uncorrectable,
         row_remap_failed = excluded.row_remap_failed, lost = excluded.lost,
         score = excluded.score, sampled_at = excluded.sampled_at, updated_at = now()`,
      [nodeId, JSON.stringify(rows), heartbeat.sampledAt],
    );
  }

  async setHealth(
    em: EntityManager,
    id: string,
    change: NodeHealthChange,
    at: Date,
  ): Promise<NodeRow> {
    const rows: NodeRow[] = await em.query(
      `WITH n AS (
         UPDATE gpu.nodes SET state = $2, health = $3, rejoin_in = $4, score = $5, updated_at = $6
          WHERE id = $1 RETURNING *)
       SELECT ${NODE_COLUMNS} FROM n`,
      [id, change.state, change.health, change.rejoinIn, change.score, at],
    );
    return rows[0]!;
  }

  async setFlags(
    em: EntityManager,
    id: string,
    flags: { cordoned: boolean; draining: boolean },
    at: Date,
  ): Promise<void> {
    await em.query(
      `UPDATE gpu.nodes SET cordoned = $2, draining = $3, updated_at = $4 WHERE id = $1`,
      [id, flags.cordoned, flags.draining, at],
    );
  }

  /** Starts a new window of caller reports for the node. */
  async resetCallerWindow(em: EntityManager, id: string, at: Date): Promise<void> {
    await em.query(
      `UPDATE gpu.nodes SET caller_calls = 0, caller_failures = 0, caller_window_started_at = $2
        WHERE id = $1`,
      [id, at],
    );
  }

  /** Adds routes given to callers, per node id. */
  async addCallerCalls(em: EntityManager, calls: ReadonlyMap<string, number>): Promise<void> {
    if (calls.size === 0) return;
    await em.query(
      `UPDATE gpu.nodes n SET caller_calls = n.caller_calls + c.calls
         FROM jsonb_to_recordset($1::jsonb) AS c (id uuid, calls int) WHERE n.id = c.id`,
      [JSON.stringify([...calls].map(([id, n]) => ({ id, calls: n })))],
    );
  }

  /** Counts a failure a caller reported against the node; the node, locked, or null. */
  async addCallerFailure(em: EntityManager, name: string): Promise<NodeRow | null> {
    const rows: NodeRow[] = await em.query(
      `WITH n AS (
         UPDATE gpu.nodes SET caller_failures = caller_failures + 1,
           caller_calls = GREATEST(caller_calls, caller_failures + 1)
          WHERE name = $1 RETURNING *)
       SELECT ${NODE_COLUMNS} FROM n`,
      [name],
    );
    return rows[0] ?? null;
  }

  /**
   * Nodes whose heartbeat is later than their interval allows, locked; a node another replica
   * is looking at is skipped.
   */
  async late(em: EntityManager, now: Date, limit: number): Promise<NodeRow[]> {
    return em.query(
      `SELECT ${NODE_COLUMNS} FROM gpu.nodes n
        WHERE n.last_heartbeat_at IS NOT NULL AND n.state <> 'offline'
          AND n.last_heartbeat_at + make_interval(secs => COALESCE(n.interval_ms, 5000) / 1000.0)
              < $1
        ORDER BY n.last_heartbeat_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now, limit],
    );
  }

  /** The GPUs of these nodes with what their active leases hold. */
  async gpusOf(em: EntityManager, nodeIds: readonly string[], lock = false): Promise<GpuRow[]> {
    if (nodeIds.length === 0) return [];
    return em.query(
      `SELECT ${GPU_COLUMNS},
         COALESCE(l.leased, 0)::int AS "leasedMiB", COALESCE(l.n, 0)::int AS "leaseCount"
         FROM gpu.gpus g
         LEFT JOIN (SELECT gpu_uuid, sum(charged_mib) AS leased, count(*) AS n
                      FROM gpu.leases WHERE state = 'active' GROUP BY gpu_uuid) l
           ON l.gpu_uuid = g.uuid
        WHERE g.node_id = ANY($1::uuid[])
        ORDER BY g.node_id, g.index${lock ? ' FOR UPDATE OF g' : ''}`,
      [nodeIds],
    );
  }

  /** Every GPU, locked in one order so two placements wait for each other, never deadlock. */
  async lockAllGpus(em: EntityManager): Promise<void> {
    await em.query(`SELECT uuid FROM gpu.gpus ORDER BY uuid FOR UPDATE`);
  }

  /** The GPUs of nodes that serve the workload, and those its leases are on. */
  async gpusOfWorkload(
    em: EntityManager,
    workload: { namespace: string; kind: string; name: string },
  ): Promise<(GpuRow & { node: string })[]> {
    return em.query(
      `SELECT ${GPU_COLUMNS}, n.name AS node, 0 AS "leasedMiB", 0 AS "leaseCount"
         FROM gpu.gpus g JOIN gpu.nodes n ON n.id = g.node_id
        WHERE NOT g.lost AND g.sampled_at IS NOT NULL AND (
          n.serves @> $1::jsonb
          OR EXISTS (SELECT 1 FROM gpu.leases l WHERE l.gpu_uuid = g.uuid AND l.state = 'active'
                       AND l.holder_namespace = $2 AND l.holder_kind = $3 AND l.holder_name = $4))
        ORDER BY n.name, g.index`,
      [JSON.stringify([{ workload }]), workload.namespace, workload.kind, workload.name],
    );
  }

  /** Nodes in routing (healthy or degraded) that serve the model. */
  async routable(em: EntityManager, model: string): Promise<RoutableNode[]> {
    return em.query(
      `SELECT n.id, n.name, n.score, n.serves,
         COALESCE(sum(g.free_mib) FILTER (WHERE NOT g.lost), 0)::int AS "freeMiB",
         COALESCE(sum(g.total_mib) FILTER (WHERE NOT g.lost), 0)::int AS "totalMiB"
         FROM gpu.nodes n LEFT JOIN gpu.gpus g ON g.node_id = n.id
        WHERE n.state IN ('healthy', 'degraded') AND n.serves @> $1::jsonb
        GROUP BY n.id ORDER BY n.name`,
      [JSON.stringify([{ model }])],
    );
  }

  /** The ids of nodes by name. */
  async idsByName(em: EntityManager, names: readonly string[]): Promise<Map<string, string>> {
    if (names.length === 0) return new Map();
    const rows: { id: string; name: string }[] = await em.query(
      `SELECT id, name FROM gpu.nodes WHERE name = ANY($1::text[])`,
      [names],
    );
    return new Map(rows.map((r) => [r.name, r.id]));
  }
}

/** A node that may take calls for a model, with the VRAM of its GPUs. */
export interface RoutableNode {
  id: string;
  name: string;
  score: number;
  serves: GpuServedModel[];
  freeMiB: number;
  totalMiB: number;
}
