import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface WorkerRow {
  id: string;
  queue: string;
  concurrency: number;
  draining: boolean;
  lastSeenAt: Date;
}

const WORKER_COLUMNS = `id, queue, concurrency, draining, last_seen_at AS "lastSeenAt"`;

/** The worker processes and the slots they bring; the platform's, without row-level security. */
@Injectable()
export class WorkerRepository {
  /** Registers the worker, or renews its registration (a restarted pod keeps its name). */
  async upsert(
    em: EntityManager,
    worker: Pick<WorkerRow, 'id' | 'queue' | 'concurrency'>,
    at: Date,
  ): Promise<WorkerRow> {
    const rows: WorkerRow[] = await em.query(
      `INSERT INTO scheduler.workers (id, queue, concurrency, registered_at, last_seen_at)
       VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (id) DO UPDATE SET queue = EXCLUDED.queue,
         concurrency = EXCLUDED.concurrency, last_seen_at = EXCLUDED.last_seen_at
       RETURNING ${WORKER_COLUMNS}`,
      [worker.id, worker.queue, worker.concurrency, at],
    );
    return rows[0]!;
  }

  /** Marks the worker seen now; null when it never registered. */
  async touch(em: EntityManager, id: string, at: Date): Promise<WorkerRow | null> {
    const rows: WorkerRow[] = await em.query(
      `WITH seen AS (
         UPDATE scheduler.workers SET last_seen_at = $2 WHERE id = $1 RETURNING ${WORKER_COLUMNS})
       SELECT * FROM seen`,
      [id, at],
    );
    return rows[0] ?? null;
  }

  /** The slots of the queue's workers seen since `aliveSince`. */
  async slotsOf(em: EntityManager, queue: string, aliveSince: Date): Promise<number> {
    const rows: { slots: number }[] = await em.query(
      `SELECT coalesce(sum(concurrency), 0)::int AS slots FROM scheduler.workers
        WHERE queue = $1 AND last_seen_at >= $2`,
      [queue, aliveSince],
    );
    return rows[0]?.slots ?? 0;
  }
}
