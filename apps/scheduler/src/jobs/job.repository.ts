import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { JobPriority, JobState } from '@lattice/contracts';

/** A job as the scheduler keeps it. */
export interface JobRow {
  id: string;
  tenantId: string;
  ownerId: string;
  queue: string;
  type: string;
  payload: Record<string, unknown>;
  priority: JobPriority;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  timeoutSeconds: number;
  notBefore: Date;
  orderKey: string;
  idempotencyKey: string | null;
  requestHash: string | null;
  labels: Record<string, string>;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  result: Record<string, unknown> | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** The worker's last progress report, with the attempt that made it; see `JobProgressView`. */
  progress: StoredProgress | null;
  progressAt: Date | null;
}

export interface StoredProgress {
  done: number;
  total: number;
  stage?: string;
  message?: string;
  attempt: number;
}

/** What a state change rewrites; the rest of the row stays as it is. */
export type JobChange = Pick<
  JobRow,
  | 'state'
  | 'attempts'
  | 'notBefore'
  | 'leaseOwner'
  | 'leaseExpiresAt'
  | 'result'
  | 'lastError'
  | 'updatedAt'
  | 'startedAt'
  | 'finishedAt'
>;

export interface JobTransitionRow {
  tenantId: string;
  jobId: string;
  from: JobState | null;
  to: JobState;
  attempt: number;
  workerId: string | null;
  error: string | null;
  at: Date;
}

export interface JobFilters {
  queue?: string;
  state?: JobState;
  type?: string;
  priority?: JobPriority;
  /** Only the jobs this principal submitted (own-scope readers). */
  ownerId?: string;
}

export const JOB_COLUMNS = `
  id, tenant_id AS "tenantId", owner_id AS "ownerId", queue, type, payload, priority, state,
  attempts, max_attempts AS "maxAttempts", timeout_seconds AS "timeoutSeconds",
  not_before AS "notBefore", order_key AS "orderKey", idempotency_key AS "idempotencyKey",
  request_hash AS "requestHash", labels, lease_owner AS "leaseOwner",
  lease_expires_at AS "leaseExpiresAt", result, last_error AS "lastError",
  created_at AS "createdAt", updated_at AS "updatedAt", started_at AS "startedAt",
  finished_at AS "finishedAt", progress, progress_at AS "progressAt"`;

/**
 * The jobs and their transitions. Every statement runs in the caller's scope: a tenant's
 * (row-level security shows it its own jobs only) or the dispatcher's.
 */
@Injectable()
export class JobRepository {
  /** Inserts the job, or returns null when the tenant already used its idempotency key. */
  async insert(em: EntityManager, job: JobRow): Promise<JobRow | null> {
    const rows: JobRow[] = await em.query(
      `INSERT INTO scheduler.jobs (id, tenant_id, owner_id, queue, type, payload, priority, state,
         attempts, max_attempts, timeout_seconds, not_before, order_key, idempotency_key,
         request_hash, labels, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)
       ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING ${JOB_COLUMNS}`,
      [
        job.id,
        job.tenantId,
        job.ownerId,
        job.queue,
        job.type,
        JSON.stringify(job.payload),
        job.priority,
        job.state,
        job.attempts,
        job.maxAttempts,
        job.timeoutSeconds,
        job.notBefore,
        job.orderKey,
        job.idempotencyKey,
        job.requestHash,
        JSON.stringify(job.labels),
        job.createdAt,
      ],
    );
    return rows[0] ?? null;
  }

  async byIdempotencyKey(em: EntityManager, key: string): Promise<JobRow | null> {
    const rows: JobRow[] = await em.query(
      `SELECT ${JOB_COLUMNS} FROM scheduler.jobs
        WHERE tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
          AND idempotency_key = $1`,
      [key],
    );
    return rows[0] ?? null;
  }

  /** The job, locked against concurrent changes until the transaction ends when `lock`. */
  async byId(em: EntityManager, id: string, lock = false): Promise<JobRow | null> {
    const rows: JobRow[] = await em.query(
      `SELECT ${JOB_COLUMNS} FROM scheduler.jobs WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** A page in creation order, newest first, after the keyset position `after`. */
  async list(
    em: EntityManager,
    filters: JobFilters,
    after: [string, string] | null,
    limit: number,
  ): Promise<JobRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filters.queue !== undefined) add('queue = ?', filters.queue);
    if (filters.state !== undefined) add('state = ?', filters.state);
    if (filters.type !== undefined) add('type = ?', filters.type);
    if (filters.priority !== undefined) add('priority = ?', filters.priority);
    if (filters.ownerId !== undefined) add('owner_id = ?', filters.ownerId);
    if (after) {
      params.push(after[0], after[1]);
      where.push(
        `(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`,
      );
    }
    params.push(limit);
    return em.query(
      `SELECT ${JOB_COLUMNS} FROM scheduler.jobs
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
  }

  /**
   * Rewrites the job's state, only if it is still in `from`: a change that lost a race
   * returns null rather than moving a job twice.
   */
  async update(
    em: EntityManager,
    id: string,
    from: JobState,
    change: JobChange,
  ): Promise<JobRow | null> {
    const rows: JobRow[] = await em.query(
      `WITH changed AS (
         UPDATE scheduler.jobs SET state = $3, attempts = $4, not_before = $5, lease_owner = $6,
           lease_expires_at = $7, result = $8, last_error = $9, updated_at = $10,
           started_at = $11, finished_at = $12
          WHERE id = $1 AND state = $2
         RETURNING ${JOB_COLUMNS})
       SELECT * FROM changed`,
      [
        id,
        from,
        change.state,
        change.attempts,
        change.notBefore,
        change.leaseOwner,
        change.leaseExpiresAt,
        change.result === null ? null : JSON.stringify(change.result),
        change.lastError,
        change.updatedAt,
        change.startedAt,
        change.finishedAt,
      ],
    );
    return rows[0] ?? null;
  }

  async recordTransition(em: EntityManager, t: JobTransitionRow): Promise<void> {
    await em.query(
      `INSERT INTO scheduler.job_transitions
         (tenant_id, job_id, from_state, to_state, attempt, worker_id, error, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [t.tenantId, t.jobId, t.from, t.to, t.attempt, t.workerId, t.error, t.at],
    );
  }

  async transitionsOf(em: EntityManager, jobId: string): Promise<JobTransitionRow[]> {
    return em.query(
      `SELECT tenant_id AS "tenantId", job_id AS "jobId", from_state AS "from", to_state AS "to",
              attempt, worker_id AS "workerId", error, at
         FROM scheduler.job_transitions WHERE job_id = $1 ORDER BY id`,
      [jobId],
    );
  }
}
