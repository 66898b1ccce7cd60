import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { JobPriority, JobProgress, JobState } from '@lattice/contracts';
import { JOB_COLUMNS, type JobRow } from '../jobs/job.repository';

export interface HeadJob {
  id: string;
  tenantId: string;
  priority: JobPriority;
  createdAt: Date;
}

/**
 * The dispatcher's statements: they read and lock jobs of every tenant, so they run only in
 * `TenantScope.runForDispatch`, whose policy on the job tables grants exactly that.
 */
@Injectable()
export class DispatchRepository {
  /** Jobs held (leased or running) per tenant in the queue, and by the given worker. */
  async held(
    em: EntityManager,
    queue: string,
    workerId: string,
  ): Promise<{ byTenant: Map<string, number>; byWorker: number }> {
    const rows: { tenantId: string; n: number; mine: number }[] = await em.query(
      `SELECT tenant_id AS "tenantId", count(*)::int AS n,
              count(*) FILTER (WHERE lease_owner = $2)::int AS mine
         FROM scheduler.jobs
        WHERE queue = $1 AND state IN ('leased', 'running')
        GROUP BY tenant_id`,
      [queue, workerId],
    );
    return {
      byTenant: new Map(rows.map((r) => [r.tenantId, r.n])),
      byWorker: rows.reduce((sum, r) => sum + r.mine, 0),
    };
  }

  /** Jobs each of the tenants holds across every queue: what its plan's concurrentJobs caps. */
  async heldByTenants(
    em: EntityManager,
    tenantIds: readonly string[],
  ): Promise<Map<string, number>> {
    if (tenantIds.length === 0) return new Map();
    const rows: { tenantId: string; n: number }[] = await em.query(
      `SELECT tenant_id AS "tenantId", count(*)::int AS n
         FROM scheduler.jobs
        WHERE tenant_id = ANY($1::uuid[]) AND state IN ('leased', 'running')
        GROUP BY tenant_id`,
      [tenantIds],
    );
    return new Map(rows.map((r) => [r.tenantId, r.n]));
  }

  /**
   * Takes each tenant's lease lock until the transaction ends, in the order given (sorted by
   * the caller, so two transactions never wait on each other in a circle).
   */
  async lockTenants(em: EntityManager, tenantIds: readonly string[]): Promise<void> {
    if (tenantIds.length === 0) return;
    await em.query(
      `SELECT count(pg_advisory_xact_lock(hashtextextended('scheduler.lease:' || t, 0)))
         FROM unnest($1::text[]) WITH ORDINALITY AS u(t, n)`,
      [tenantIds],
    );
  }

  /** The first `perTenant` ready jobs of each tenant's line in the queue, by order key. */
  async heads(em: EntityManager, queue: string, now: Date, perTenant: number): Promise<HeadJob[]> {
    return em.query(
      `SELECT j.id, j."tenantId", j.priority, j."createdAt"
         FROM (SELECT DISTINCT tenant_id FROM scheduler.jobs
                WHERE queue = $1 AND state = 'queued' AND not_before <= $2) t
         CROSS JOIN LATERAL (
           SELECT id, tenant_id AS "tenantId", priority, created_at AS "createdAt"
             FROM scheduler.jobs
            WHERE queue = $1 AND tenant_id = t.tenant_id AND state = 'queued' AND not_before <= $2
            ORDER BY order_key, id
            LIMIT $3) j`,
      [queue, now, perTenant],
    );
  }

  /**
   * Whether the worker may still take work, its row share-locked until the transaction ends:
   * a drain marking it (an update of that row) waits for a lease in progress, so the operator
   * reading what a drained worker holds never misses a job leased at the same moment.
   */
  async acceptsWork(em: EntityManager, workerId: string): Promise<boolean> {
    const rows: { draining: boolean }[] = await em.query(
      `SELECT draining FROM scheduler.workers WHERE id = $1 FOR SHARE`,
      [workerId],
    );
    return rows.length === 1 && !rows[0].draining;
  }

  /**
   * Leases the chosen jobs to the worker. Each row is locked `FOR UPDATE SKIP LOCKED` and
   * leased only if it is still queued once locked: a job another replica holds or has just
   * leased is skipped, never leased twice.
   */
  async lease(
    em: EntityManager,
    ids: readonly string[],
    workerId: string,
    expiresAt: Date,
    now: Date,
  ): Promise<JobRow[]> {
    if (ids.length === 0) return [];
    return em.query(
      `WITH locked AS (
         SELECT id AS locked_id FROM scheduler.jobs
          WHERE id = ANY($1::uuid[]) AND state = 'queued' AND not_before <= $4
          FOR UPDATE SKIP LOCKED),
       leased AS (
         UPDATE scheduler.jobs
            SET state = 'leased', attempts = attempts + 1, lease_owner = $2,
                lease_expires_at = $3, updated_at = $4
           FROM locked WHERE id = locked.locked_id
         RETURNING ${JOB_COLUMNS})
       SELECT * FROM leased`,
      [ids, workerId, expiresAt, now],
    );
  }

  /**
   * Stores the progress of a job the worker holds under a lease still running at `now`, with
   * the attempt it belongs to; null when it holds no such lease.
   */
  async progress(
    em: EntityManager,
    id: string,
    workerId: string,
    progress: JobProgress,
    now: Date,
  ): Promise<{ id: string; state: JobState; attempts: number } | null> {
    const rows: { id: string; state: JobState; attempts: number }[] = await em.query(
      `WITH reported AS (
         UPDATE scheduler.jobs
            SET progress = $3::jsonb || jsonb_build_object('attempt', attempts), progress_at = $4
          WHERE id = $1 AND lease_owner = $2 AND lease_expires_at > $4
         RETURNING id, state, attempts)
       SELECT * FROM reported`,
      [id, workerId, JSON.stringify(progress), now],
    );
    return rows[0] ?? null;
  }

  /** Extends the worker's leases on the given jobs; returns the ids it still holds. */
  async extend(
    em: EntityManager,
    workerId: string,
    ids: readonly string[],
    expiresAt: Date,
  ): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows: { id: string }[] = await em.query(
      `WITH extended AS (
         UPDATE scheduler.jobs SET lease_expires_at = $3
          WHERE id = ANY($2::uuid[]) AND lease_owner = $1 AND state IN ('leased', 'running')
         RETURNING id)
       SELECT id FROM extended`,
      [workerId, ids, expiresAt],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Held jobs whose leases ran out, or that have run past their timeout, locked; a batch
   * another replica is sweeping is skipped.
   */
  async expired(em: EntityManager, now: Date, limit: number): Promise<JobRow[]> {
    return em.query(
      `SELECT ${JOB_COLUMNS} FROM scheduler.jobs
        WHERE state IN ('leased', 'running')
          AND (lease_expires_at < $1
               OR started_at + timeout_seconds * interval '1 second' < $1)
        ORDER BY lease_expires_at
        LIMIT $2
        FOR UPDATE SKIP LOCKED`,
      [now, limit],
    );
  }
}
