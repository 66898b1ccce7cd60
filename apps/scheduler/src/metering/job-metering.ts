import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { UsageOutbox } from '@lattice/messaging';
import { Clock } from '@lattice/service-runtime';
import { QueueRepository } from '../queues/queue.repository';
import type { JobRow } from '../jobs/job.repository';
import { gpuSecondsOf } from './gpu-seconds';

/** Queues are not changed once declared; their GPUs are read again after this long anyway. */
const QUEUE_CACHE_MS = 60_000;

/**
 * Meters the run of a job when it ends (it succeeded, failed, was cancelled, handed back, or
 * its lease or time ran out): the GPU-seconds go to the usage outbox in the transaction that
 * ended the run, so the report is written once with that change and never without it.
 */
@Injectable()
export class JobMetering {
  private readonly gpus = new Map<string, { gpusPerJob: number; until: number }>();

  constructor(
    private readonly queues: QueueRepository,
    private readonly outbox: UsageOutbox<EntityManager>,
    private readonly clock: Clock,
  ) {}

  async runEnded(em: EntityManager, job: JobRow, endedAt: Date): Promise<void> {
    const amount = gpuSecondsOf(job.startedAt, endedAt, await this.gpusPerJob(em, job.queue));
    if (amount === 0) return;
    await this.outbox.record(em, {
      messageId: randomUUID(),
      tenantId: job.tenantId,
      resource: 'gpuSeconds',
      amount,
      occurredAt: endedAt.toISOString(),
      source: 'scheduler',
    });
  }

  async gpusPerJob(em: EntityManager, queue: string): Promise<number> {
    const now = this.clock.now().getTime();
    const cached = this.gpus.get(queue);
    if (cached && cached.until > now) return cached.gpusPerJob;
    const gpusPerJob = (await this.queues.byName(em, queue))?.gpusPerJob ?? 0;
    this.gpus.set(queue, { gpusPerJob, until: now + QUEUE_CACHE_MS });
    return gpusPerJob;
  }
}
