import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { GpuLeaseState } from '@lattice/contracts';

/** A VRAM lease as the service keeps it. */
export interface LeaseRow {
  id: string;
  tenantId: string;
  ownerId: string;
  nodeId: string;
  node: string;
  gpuUuid: string;
  gpuTotalMiB: number;
  vramMiB: number;
  chargedMiB: number;
  model: string | null;
  holderNamespace: string | null;
  holderKind: string | null;
  holderName: string | null;
  state: GpuLeaseState;
  ttlSeconds: number;
  expiresAt: Date;
  createdAt: Date;
  endedAt: Date | null;
  endReason: string | null;
}

export type NewLease = Omit<LeaseRow, 'node' | 'gpuTotalMiB' | 'endedAt' | 'endReason'>;

const LEASE_COLUMNS = `
  l.id, l.tenant_id AS "tenantId", l.owner_id AS "ownerId", l.node_id AS "nodeId",
  n.name AS node, l.gpu_uuid AS "gpuUuid", g.total_mib AS "gpuTotalMiB",
  l.vram_mib AS "vramMiB", l.charged_mib AS "chargedMiB", l.model,
  l.holder_namespace AS "holderNamespace", l.holder_kind AS "holderKind",
  l.holder_name AS "holderName", l.state, l.ttl_seconds AS "ttlSeconds",
  l.expires_at AS "expiresAt", l.created_at AS "createdAt", l.ended_at AS "endedAt",
  l.end_reason AS "endReason"`;

const FROM = `gpu.leases l JOIN gpu.nodes n ON n.id = l.node_id JOIN gpu.gpus g ON g.uuid = l.gpu_uuid`;

/**
 * VRAM leases. In a tenant's scope row-level security shows its own leases only; placement,
 * expiry and failover run in the dispatch scope, which sees every tenant's.
 */
@Injectable()
export class LeaseRepository {
  async insert(em: EntityManager, lease: NewLease): Promise<void> {
    await em.query(
      `INSERT INTO gpu.leases (id, tenant_id, owner_id, node_id, gpu_uuid, vram_mib, charged_mib,
         model, holder_namespace, holder_kind, holder_name, state, ttl_seconds, expires_at,
         created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [
        lease.id,
        lease.tenantId,
        lease.ownerId,
        lease.nodeId,
        lease.gpuUuid,
        lease.vramMiB,
        lease.chargedMiB,
        lease.model,
        lease.holderNamespace,
        lease.holderKind,
        lease.holderName,
        lease.state,
        lease.ttlSeconds,
        lease.expiresAt,
        lease.createdAt,
      ],
    );
  }

  /** The lease, locked against concurrent changes until the transaction ends when `lock`. */
  async byId(em: EntityManager, id: string, lock = false): Promise<LeaseRow | null> {
    const rows: LeaseRow[] = await em.query(
      `SELECT ${LEASE_COLUMNS} FROM ${FROM} WHERE l.id = $1${lock ? ' FOR UPDATE OF l' : ''}`,
      [id],
    );
    return rows[0] ?? null;
  }

  async list(em: EntityManager, filter: { state?: GpuLeaseState }): Promise<LeaseRow[]> {
    const params: unknown[] = [];
    let where = '';
    if (filter.state) {
      params.push(filter.state);
      where = `WHERE l.state = $1`;
    }
    return em.query(
      `SELECT ${LEASE_COLUMNS} FROM ${FROM} ${where} ORDER BY l.created_at DESC, l.id DESC LIMIT 500`,
      params,
    );
  }

  async renew(em: EntityManager, id: string, ttlSeconds: number, expiresAt: Date): Promise<void> {
    await em.query(
      `UPDATE gpu.leases SET ttl_seconds = $2, expires_at = $3 WHERE id = $1 AND state = 'active'`,
      [id, ttlSeconds, expiresAt],
    );
  }

  /** Ends the lease if it is still active; the ended lease, or null if it had already ended. */
  async end(
    em: EntityManager,
    id: string,
    state: Exclude<GpuLeaseState, 'active'>,
    at: Date,
    reason: string | null,
  ): Promise<LeaseRow | null> {
    const changed: unknown[] = await em.query(
      `WITH ended AS (
         UPDATE gpu.leases SET state = $2, ended_at = $3, end_reason = $4
          WHERE id = $1 AND state = 'active' RETURNING id)
       SELECT id FROM ended`,
      [id, state, at, reason],
    );
    return changed.length ? this.byId(em, id) : null;
  }

  /** Active leases whose time ran out, locked; those another replica is ending are skipped. */
  async expired(em: EntityManager, now: Date, limit: number): Promise<LeaseRow[]> {
    return em.query(
      `SELECT ${LEASE_COLUMNS} FROM ${FROM}
        WHERE l.state = 'active' AND l.expires_at <= $1
        ORDER BY l.expires_at LIMIT $2 FOR UPDATE OF l SKIP LOCKED`,
      [now, limit],
    );
  }

  /** The active leases on a node, locked. */
  async activeOnNode(em: EntityManager, nodeId: string): Promise<LeaseRow[]> {
    return em.query(
      `SELECT ${LEASE_COLUMNS} FROM ${FROM} WHERE l.node_id = $1 AND l.state = 'active'
        ORDER BY l.id FOR UPDATE OF l`,
      [nodeId],
    );
  }

  /** The tenant's active leases (row-level security keeps them to the scope's tenant). */
  async active(em: EntityManager): Promise<LeaseRow[]> {
    return em.query(`SELECT ${LEASE_COLUMNS} FROM ${FROM} WHERE l.state = 'active'`);
  }
}
