import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import {
  DomainError,
  ErrorCode,
  SchedulerJobCancelled,
  SchedulerWorkReady,
  type JobPage,
  type JobView,
  type ListDeadLettersQuery,
  type ListJobsQuery,
  type SubmitJobRequest,
} from '@lattice/contracts';
import { CursorCodec, TenantScope } from '@lattice/database';
import { AuditRecorder, EventBus, auditActorOf } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { Clock } from '@lattice/service-runtime';
import { JobOutbox } from '../events/job-outbox';
import { jobOrderKey } from '../fair-share/fair-share';
import { gpuQuotaExhausted } from '../metering/gpu-seconds';
import { PlanDirectory } from '../plans/plan-directory';
import { QueueRepository } from '../queues/queue.repository';
import { jobAccess, type JobReader } from './job-access';
import { JobTransitions } from './job-transitions';
import { JobRepository, type JobFilters, type JobRow } from './job.repository';

/** The fair-share core's aging: a waiting job rises one priority level per this much. */
export const AGING_MS = Symbol('AGING_MS');

/** Jobs as tenants see them: submitted, read, listed, cancelled and retried from the dead. */
@Injectable()
export class JobService {
  constructor(
    private readonly scope: TenantScope,
    private readonly jobs: JobRepository,
    private readonly queues: QueueRepository,
    private readonly transitions: JobTransitions,
    private readonly outbox: JobOutbox,
    private readonly cursors: CursorCodec,
    private readonly audit: AuditRecorder,
    private readonly plans: PlanDirectory,
    private readonly events: EventBus,
    private readonly clock: Clock,
    @Inject(AGING_MS) private readonly agingMs: number,
  ) {}

  /**
   * Queues a job. The same idempotency key with the same request returns the job it made;
   * with a different request it is refused (422), in the manner of Stripe's keys. A job for a
   * GPU queue is refused while the tenant has used up its plan's GPU-seconds.
   */
  async submit(ctx: RequestContext, request: SubmitJobRequest): Promise<JobView> {
    const { tenantId: requested, ...submitted } = request;
    const { tenantId, ownerId } = jobAccess.submit(ctx, requested);
    const now = this.clock.now();
    const requestHash = hashOf(submitted);
    const { job, created } = await this.scope.run(tenantId, async (em) => {
      if (request.idempotencyKey !== undefined) {
        const earlier = await this.jobs.byIdempotencyKey(em, request.idempotencyKey);
        if (earlier) return { job: sameRequest(earlier, requestHash), created: false };
      }
      const queue = await this.queues.byName(em, request.queue);
      if (!queue)
        throw new DomainError(ErrorCode.NotFound, `no queue named ${request.queue}`, {
          queue: request.queue,
        });
      if (queue.gpusPerJob > 0) await this.requireGpuSeconds(tenantId);
      const notBefore = request.notBefore ? new Date(request.notBefore) : now;
      const id = randomUUID();
      const row: JobRow = {
        id,
        tenantId,
        ownerId,
        queue: queue.name,
        type: request.type,
        payload: request.payload,
        priority: request.priority,
        state: 'queued',
        attempts: 0,
        maxAttempts: request.maxAttempts ?? queue.defaultMaxAttempts,
        timeoutSeconds: request.timeoutSeconds ?? queue.defaultTimeoutSeconds,
        notBefore,
        orderKey: String(
          Math.round(
            jobOrderKey(
              {
                id,
                priority: request.priority,
                enqueuedAt: Math.max(now.getTime(), notBefore.getTime()),
              },
              this.agingMs,
            ),
          ),
        ),
        idempotencyKey: request.idempotencyKey ?? null,
        requestHash,
        labels: request.labels,
        leaseOwner: null,
        leaseExpiresAt: null,
        result: null,
        lastError: null,
        createdAt: now,
        updatedAt: now,
        startedAt: null,
        finishedAt: null,
        progress: null,
        progressAt: null,
      };
      const inserted = await this.jobs.insert(em, row);
      if (!inserted) {
        // a concurrent submit with the same key won the insert: it is the job to return
        const winner = await this.jobs.byIdempotencyKey(em, request.idempotencyKey!);
        if (!winner) throw new DomainError(ErrorCode.Conflict, 'the job is being submitted');
        return { job: sameRequest(winner, requestHash), created: false };
      }
      await this.transitions.recorded(em, null, inserted, { at: now });
      return { job: inserted, created: true };
    });
    if (created) {
      void this.outbox.kick();
      if (job.notBefore.getTime() <= now.getTime()) this.workReady(job.queue);
      this.record(ctx, 'job.submit', job, { queue: job.queue, type: job.type });
    }
    return toView(job);
  }

  async get(ctx: RequestContext, id: string, tenantId?: string): Promise<JobView> {
    const reader = jobAccess.reader(ctx, tenantId);
    const job = await this.scope.run(reader.tenantId, (em) => this.jobs.byId(em, id));
    if (!job || !reader.may('read', job.ownerId)) throw jobAccess.hidden();
    return toView(job);
  }

  async list(ctx: RequestContext, query: ListJobsQuery): Promise<JobPage> {
    const { limit, cursor, tenantId, ...filters } = query;
    return this.page(jobAccess.reader(ctx, tenantId), filters, limit, cursor);
  }

  async listDeadLetters(ctx: RequestContext, query: ListDeadLettersQuery): Promise<JobPage> {
    const { limit, cursor, tenantId, ...filters } = query;
    return this.page(jobAccess.reader(ctx, tenantId), { ...filters, state: 'dead' }, limit, cursor);
  }

  /**
   * Cancels a job that has not finished. A worker holding it is told at once, and again in the
   * reply to its next heartbeat should it miss that.
   */
  async cancel(ctx: RequestContext, id: string, tenantId?: string): Promise<JobView> {
    const held: { by: string | null } = { by: null };
    const cancelled = await this.change(ctx, id, tenantId, 'job.cancel', (em, job, at) => {
      held.by = job.leaseOwner;
      return this.transitions.move(
        em,
        job,
        'cancelled',
        { leaseOwner: null, leaseExpiresAt: null, finishedAt: at },
        { at, workerId: job.leaseOwner },
      );
    });
    if (held.by !== null)
      this.tellWorkers(() =>
        this.events.publish(SchedulerJobCancelled, { jobId: cancelled.id, workerId: held.by! }),
      );
    return cancelled;
  }

  /** Puts a dead job back in its queue with its attempts counted afresh. */
  async retryDeadLetter(ctx: RequestContext, id: string, tenantId?: string): Promise<JobView> {
    const retried = await this.change(ctx, id, tenantId, 'job.retry', (em, job, at) => {
      if (job.state !== 'dead')
        throw new DomainError(ErrorCode.InvalidState, `a ${job.state} job is not a dead letter`, {
          state: job.state,
        });
      return this.transitions.move(
        em,
        job,
        'queued',
        { attempts: 0, notBefore: at, finishedAt: null, lastError: job.lastError },
        { at },
      );
    });
    this.workReady(retried.queue);
    return retried;
  }

  private async requireGpuSeconds(tenantId: string): Promise<void> {
    const usage = await this.plans.gpuUsageOf(tenantId);
    if (usage && gpuQuotaExhausted(usage.used, usage.limit))
      throw new DomainError(
        ErrorCode.QuotaExceeded,
        'the tenant has used its GPU-seconds for this month',
        { resource: 'gpuSeconds', used: usage.used, limit: usage.limit },
      );
  }

  private workReady(queue: string): void {
    this.tellWorkers(() => this.events.publish(SchedulerWorkReady, { queue }));
  }

  /** A hint to the workers over core NATS: one that misses it learns the same another way. */
  private tellWorkers(publish: () => void): void {
    try {
      publish();
    } catch {
      // the heartbeat's reply and the workers' polling carry the same news
    }
  }

  private async change(
    ctx: RequestContext,
    id: string,
    tenantId: string | undefined,
    action: string,
    move: (em: EntityManager, job: JobRow, at: Date) => Promise<JobRow>,
  ): Promise<JobView> {
    const reader = jobAccess.reader(ctx, tenantId);
    const at = this.clock.now();
    const job = await this.scope.run(reader.tenantId, async (em) => {
      const job = await this.jobs.byId(em, id, true);
      if (!job || !reader.may('read', job.ownerId)) throw jobAccess.hidden();
      if (!reader.may('update', job.ownerId))
        throw new DomainError(ErrorCode.Forbidden, 'not allowed to update Job', {
          action: 'update',
          resource: 'Job',
        });
      return move(em, job, at);
    });
    void this.outbox.kick();
    this.record(ctx, action, job, { state: job.state });
    return toView(job);
  }

  private async page(
    reader: JobReader,
    filters: JobFilters,
    limit: number,
    cursor: string | undefined,
  ): Promise<JobPage> {
    const where: JobFilters = {
      ...filters,
      ...(reader.ownerId ? { ownerId: reader.ownerId } : {}),
    };
    const binding = { tenantId: reader.tenantId, filters: where };
    const after = cursor ? (this.cursors.decode(cursor, binding) as [string, string]) : null;
    const rows = await this.scope.run(reader.tenantId, (em) =>
      this.jobs.list(em, where, after, limit + 1),
    );
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    const nextCursor =
      rows.length > limit && last
        ? this.cursors.encode([last.createdAt.toISOString(), last.id], binding)
        : null;
    return { items: items.map(toView), nextCursor };
  }

  private record(
    ctx: RequestContext,
    action: string,
    job: JobRow,
    metadata: Record<string, unknown>,
  ) {
    this.audit.record({
      tenantId: job.tenantId,
      actor: auditActorOf(ctx),
      action,
      resource: { type: 'Job', id: job.id },
      outcome: 'success',
      requestId: ctx.requestId,
      metadata,
    });
  }
}

/** A fingerprint of what was asked, to tell a replay from a different request under one key. */
function hashOf(request: SubmitJobRequest): string {
  return createHash('sha256').update(canonical(request)).digest('hex');
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

function sameRequest(job: JobRow, requestHash: string): JobRow {
  if (job.requestHash !== requestHash)
    throw new DomainError(
      ErrorCode.IdempotencyMismatch,
      'this idempotency key was used with a different request',
      { jobId: job.id },
    );
  return job;
}

export function toView(job: JobRow): JobView {
  return {
    id: job.id,
    tenantId: job.tenantId,
    queue: job.queue,
    type: job.type,
    payload: job.payload as JobView['payload'],
    priority: job.priority,
    state: job.state,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    timeoutSeconds: job.timeoutSeconds,
    notBefore: job.notBefore.toISOString(),
    idempotencyKey: job.idempotencyKey,
    labels: job.labels,
    leaseOwner: job.leaseOwner,
    leaseExpiresAt: job.leaseExpiresAt?.toISOString() ?? null,
    result: (job.result as JobView['result']) ?? null,
    lastError: job.lastError,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    progress:
      job.progress && job.progressAt
        ? {
            done: job.progress.done,
            total: job.progress.total,
            stage: job.progress.stage ?? null,
            message: job.progress.message ?? null,
            attempt: job.progress.attempt,
            reportedAt: job.progressAt.toISOString(),
          }
        : null,
  };
}
