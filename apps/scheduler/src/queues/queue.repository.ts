import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface QueueRow {
  name: string;
  description: string | null;
  workerPool: string;
  maxTenantShare: number;
  defaultTimeoutSeconds: number;
  defaultMaxAttempts: number;
  gpusPerJob: number;
  createdAt: Date;
}

export interface QueueFiguresRow {
  queue: string;
  queued: number;
  running: number;
  oldestQueuedAt: Date | null;
}

const QUEUE_COLUMNS = `name, description, worker_pool AS "workerPool",
  max_tenant_share AS "maxTenantShare", default_timeout_seconds AS "defaultTimeoutSeconds",
  default_max_attempts AS "defaultMaxAttempts", gpus_per_job AS "gpusPerJob",
  created_at AS "createdAt"`;

/** Queues are the platform's, not a tenant's: no row-level security on them. */
@Injectable()
export class QueueRepository {
  /** Inserts the queue, or returns null when the name is taken. */
  async insert(em: EntityManager, queue: QueueRow): Promise<QueueRow | null> {
    const rows: QueueRow[] = await em.query(
      `INSERT INTO scheduler.queues (name, description, worker_pool, max_tenant_share,
         default_timeout_seconds, default_max_attempts, gpus_per_job, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (name) DO NOTHING
       RETURNING ${QUEUE_COLUMNS}`,
      [
        queue.name,
        queue.description,
        queue.workerPool,
        queue.maxTenantShare,
        queue.defaultTimeoutSeconds,
        queue.defaultMaxAttempts,
        queue.gpusPerJob,
        queue.createdAt,
      ],
    );
    return rows[0] ?? null;
  }

  async byName(em: EntityManager, name: string): Promise<QueueRow | null> {
    const rows: QueueRow[] = await em.query(
      `SELECT ${QUEUE_COLUMNS} FROM scheduler.queues WHERE name = $1`,
      [name],
    );
    return rows[0] ?? null;
  }

  async list(em: EntityManager): Promise<QueueRow[]> {
    return em.query(`SELECT ${QUEUE_COLUMNS} FROM scheduler.queues ORDER BY name`);
  }

  /**
   * Waiting and held jobs per queue, of whichever tenants the scope shows: the caller's own
   * under a tenant scope, every tenant's under the dispatcher's.
   */
  async figures(em: EntityManager, queue?: string): Promise<QueueFiguresRow[]> {
    return em.query(
      `SELECT queue,
              count(*) FILTER (WHERE state = 'queued')::int AS queued,
              count(*) FILTER (WHERE state IN ('leased', 'running'))::int AS running,
              min(created_at) FILTER (WHERE state = 'queued') AS "oldestQueuedAt"
         FROM scheduler.jobs
        WHERE state IN ('queued', 'leased', 'running')${queue === undefined ? '' : ' AND queue = $1'}
        GROUP BY queue`,
      queue === undefined ? [] : [queue],
    );
  }
}
