import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface DrainRow {
  id: string;
  queue: string;
  draining: boolean;
  registeredAt: Date;
  /** The epoch for a pod drained before it ever registered. */
  lastSeenAt: Date;
  drainStartedAt: Date | null;
  drainExpiresAt: Date | null;
  /** Jobs the worker holds, leased or running. */
  heldJobs: number;
}

const DRAIN_COLUMNS = `w.id, w.queue, w.draining, w.registered_at AS "registeredAt",
  w.last_seen_at AS "lastSeenAt", w.drain_started_at AS "drainStartedAt",
  w.drain_expires_at AS "drainExpiresAt",
  (SELECT count(*)::int FROM scheduler.jobs j
    WHERE j.lease_owner = w.id AND j.state IN ('leased', 'running')) AS "heldJobs"`;

/**
 * Drains of workers asked for by the operator. The held-job counts read every tenant's jobs,
 * so these statements run in `TenantScope.runForDispatch`.
 */
@Injectable()
export class DrainRepository {
  /** The named workers that exist, with what they hold; locked when `lock` is set. */
  async workers(em: EntityManager, ids: readonly string[], lock = false): Promise<DrainRow[]> {
    if (ids.length === 0) return [];
    return em.query(
      `SELECT ${DRAIN_COLUMNS} FROM scheduler.workers w
        WHERE w.id = ANY($1::text[]) ORDER BY w.id ${lock ? 'FOR UPDATE OF w' : ''}`,
      [ids],
    );
  }

  /**
   * Marks the workers draining until `expiresAt`, keeping when an earlier drain of theirs
   * began. A name that never registered gets a row that was never seen, on `queue`, so that
   * registering later keeps it drained.
   */
  async drain(
    em: EntityManager,
    ids: readonly string[],
    queue: string,
    at: Date,
    expiresAt: Date,
  ): Promise<void> {
    if (ids.length === 0) return;
    await em.query(
      `INSERT INTO scheduler.workers
         (id, queue, concurrency, draining, registered_at, last_seen_at,
          drain_started_at, drain_expires_at)
       SELECT id, $2, 1, true, $3, 'epoch', $3, $4 FROM unnest($1::text[]) AS id
       ON CONFLICT (id) DO UPDATE SET draining = true,
         drain_started_at = coalesce(scheduler.workers.drain_started_at, EXCLUDED.drain_started_at),
         drain_expires_at = EXCLUDED.drain_expires_at`,
      [ids, queue, at, expiresAt],
    );
  }

  /**
   * Ends the drains of the named workers (those the operator drained; a worker draining for a
   * reason of its own stays so), or of every worker whose drain lapsed before `lapsedBefore`.
   * Rows of names that never registered go. Returns the ids released.
   */
  async release(
    em: EntityManager,
    which: { ids: readonly string[] } | { lapsedBefore: Date },
  ): Promise<string[]> {
    const [where, param] =
      'ids' in which
        ? [`id = ANY($1::text[])`, which.ids]
        : [`drain_expires_at < $1`, which.lapsedBefore];
    const rows: { id: string }[] = await em.query(
      `WITH gone AS (
         DELETE FROM scheduler.workers
          WHERE ${where} AND drain_started_at IS NOT NULL AND last_seen_at = 'epoch'
         RETURNING id),
       released AS (
         UPDATE scheduler.workers
            SET draining = false, drain_started_at = NULL, drain_expires_at = NULL
          WHERE ${where} AND drain_started_at IS NOT NULL AND last_seen_at <> 'epoch'
         RETURNING id)
       SELECT id FROM gone UNION ALL SELECT id FROM released`,
      [param],
    );
    return rows.map((r) => r.id);
  }
}
