import { Inject, Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  PLATFORM_TENANT_ID,
  type CompleteJobRequest,
  type FailJobRequest,
  type HeartbeatReply,
  type HeartbeatRequest,
  type JobProgressRequest,
  type JobStateReply,
  type LeaseJobsReply,
  type LeaseJobsRequest,
  SchedulerWorkReady,
  type RegisterWorkerRequest,
  type ReleaseJobRequest,
  type WorkerJobRequest,
  type WorkerView,
} from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { AuditRecorder, EventBus, auditActorOf } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { Clock } from '@lattice/service-runtime';
import type { EntityManager } from 'typeorm';
import { JobOutbox } from '../events/job-outbox';
import { pickJobs, type TenantQueueState, type WaitingJob } from '../fair-share/fair-share';
import { gpuQuotaExhausted } from '../metering/gpu-seconds';
import { PlanDirectory, fairShareTier, type TenantPlan } from '../plans/plan-directory';
import { QueueRepository } from '../queues/queue.repository';
import { requireWorker } from '../jobs/job-access';
import { afterFailedAttempt } from '../jobs/job-lifecycle';
import { JobTransitions } from '../jobs/job-transitions';
import { JobRepository, type JobRow } from '../jobs/job.repository';
import { WorkerRepository } from '../workers/worker.repository';
import { retryDelayMs, type Random } from './retry-backoff';
import { DispatchRepository } from './dispatch.repository';

export const DISPATCH_SETTINGS = Symbol('DISPATCH_SETTINGS');
export interface DispatchSettings {
  leaseMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  agingMs: number;
  random: Random;
}

/** A worker not heard from for this many lease periods brings no slots to its queue. */
const WORKER_ALIVE_LEASES = 3;
const EXPIRY_BATCH = 100;

/**
 * The worker side: registration, leasing by fair share, heartbeats, and the reports that end
 * an attempt. Every statement runs in the dispatcher's scope, which reads every tenant's jobs
 * (see `TenantScope.runForDispatch`); nothing here answers a tenant with those rows.
 */
@Injectable()
export class DispatchService {
  constructor(
    private readonly scope: TenantScope,
    private readonly dispatch: DispatchRepository,
    private readonly jobs: JobRepository,
    private readonly queues: QueueRepository,
    private readonly workers: WorkerRepository,
    private readonly plans: PlanDirectory,
    private readonly transitions: JobTransitions,
    private readonly outbox: JobOutbox,
    private readonly audit: AuditRecorder,
    private readonly events: EventBus,
    private readonly clock: Clock,
    @Inject(DISPATCH_SETTINGS) private readonly settings: DispatchSettings,
  ) {}

  async register(ctx: RequestContext, request: RegisterWorkerRequest): Promise<WorkerView> {
    requireWorker(ctx);
    const worker = await this.scope.runForDispatch(async (em) => {
      if (!(await this.queues.byName(em, request.queue)))
        throw new DomainError(ErrorCode.NotFound, `no queue named ${request.queue}`);
      return this.workers.upsert(
        em,
        { id: request.workerId, queue: request.queue, concurrency: request.concurrency },
        this.clock.now(),
      );
    });
    this.audit.record({
      tenantId: PLATFORM_TENANT_ID,
      actor: auditActorOf(ctx),
      action: 'worker.register',
      resource: { type: 'Worker', id: worker.id },
      outcome: 'success',
      requestId: ctx.requestId,
      metadata: { queue: worker.queue, concurrency: worker.concurrency },
    });
    return {
      workerId: worker.id,
      queue: worker.queue,
      concurrency: worker.concurrency,
      draining: worker.draining,
      leaseSeconds: Math.round(this.settings.leaseMs / 1000),
    };
  }

  /**
   * Leases up to `max` jobs (and the worker's free slots) by fair share. First the state of
   * the queue is read (what each tenant holds, the head of each tenant's line) and the
   * tenants' plans asked for, outside any lock; the fair-share core picks; then the picked
   * rows are locked `SKIP LOCKED` and leased only if still queued, so two replicas deciding
   * at once never lease one job twice (one of them just leases fewer).
   */
  async lease(ctx: RequestContext, request: LeaseJobsRequest): Promise<LeaseJobsReply> {
    requireWorker(ctx);
    const now = this.clock.now();
    const snapshot = await this.scope.runForDispatch(async (em) => {
      const worker = await this.activeWorker(em, request.workerId, now);
      if (worker.queue !== request.queue)
        throw new DomainError(ErrorCode.InvalidState, `the worker serves ${worker.queue}`);
      if (worker.draining) return null;
      const queue = await this.queues.byName(em, request.queue);
      if (!queue) throw new DomainError(ErrorCode.NotFound, `no queue named ${request.queue}`);
      const held = await this.dispatch.held(em, queue.name, worker.id);
      const free = Math.min(request.max, worker.concurrency - held.byWorker);
      if (free <= 0) return null;
      const aliveSince = new Date(now.getTime() - WORKER_ALIVE_LEASES * this.settings.leaseMs);
      const slots = await this.workers.slotsOf(em, queue.name, aliveSince);
      const heads = await this.dispatch.heads(em, queue.name, now, free);
      const everywhere = await this.dispatch.heldByTenants(em, [
        ...new Set(heads.map((h) => h.tenantId)),
      ]);
      return { queue, held: held.byTenant, everywhere, free, slots, heads };
    });
    if (!snapshot || snapshot.heads.length === 0) return { jobs: [] };

    const tenantIds = new Set([...snapshot.held.keys(), ...snapshot.heads.map((h) => h.tenantId)]);
    const plans = await this.plans.plansOf(tenantIds);
    const outOfGpu =
      snapshot.queue.gpusPerJob > 0
        ? await this.outOfGpuSeconds(new Set(snapshot.heads.map((h) => h.tenantId)))
        : new Set<string>();
    const waiting = new Map<string, WaitingJob[]>();
    for (const head of snapshot.heads) {
      const line = waiting.get(head.tenantId) ?? [];
      line.push({ id: head.id, priority: head.priority, enqueuedAt: head.createdAt.getTime() });
      waiting.set(head.tenantId, line);
    }
    const tenants: TenantQueueState[] = [...tenantIds].map((tenantId) => {
      const plan = plans.get(tenantId)!;
      const running = snapshot.held.get(tenantId) ?? 0;
      // the plan's concurrentJobs caps what a tenant holds in every queue together: it is
      // offered no more than that (and the lease below holds the cap against other replicas);
      // a tenant that used up its GPU-seconds is offered no GPU work
      const room = outOfGpu.has(tenantId)
        ? 0
        : Math.max(0, plan.concurrentJobs - (snapshot.everywhere.get(tenantId) ?? 0));
      return {
        tenantId,
        ...fairShareTier(plan),
        running,
        waiting: (waiting.get(tenantId) ?? []).slice(0, room),
      };
    });
    const held = [...snapshot.held.values()].reduce((a, b) => a + b, 0);
    const picks = pickJobs(
      {
        slots: Math.max(snapshot.slots, held + snapshot.free),
        maxTenantShare: snapshot.queue.maxTenantShare,
        tenants,
      },
      snapshot.free,
      { agingMs: this.settings.agingMs },
    );
    if (picks.length === 0) return { jobs: [] };

    const expiresAt = new Date(now.getTime() + this.settings.leaseMs);
    const leased = await this.scope.runForDispatch(async (em) => {
      // drained since the snapshot: nothing more for it
      if (!(await this.dispatch.acceptsWork(em, request.workerId))) return [];
      const ids = await this.withinConcurrentJobs(em, picks, plans);
      const rows = await this.dispatch.lease(em, ids, request.workerId, expiresAt, now);
      for (const job of rows)
        await this.transitions.recorded(em, 'queued', job, { at: now, workerId: request.workerId });
      return rows;
    });
    if (leased.length > 0) void this.outbox.kick();
    // in the order the fair-share core gave them
    const order = new Map(picks.map((p, i) => [p.jobId, i]));
    leased.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    for (const job of leased) this.recordJob(ctx, 'job.lease', job, { workerId: request.workerId });
    return {
      jobs: leased.map((job) => ({
        id: job.id,
        tenantId: job.tenantId,
        queue: job.queue,
        type: job.type,
        payload: job.payload as LeaseJobsReply['jobs'][number]['payload'],
        priority: job.priority,
        attempts: job.attempts,
        maxAttempts: job.maxAttempts,
        timeoutSeconds: job.timeoutSeconds,
        leaseExpiresAt: expiresAt.toISOString(),
        labels: job.labels,
      })),
    };
  }

  /**
   * The picks that keep each tenant within its plan's concurrentJobs, decided under a lock per
   * tenant held to the end of the lease transaction: another replica leasing for the same
   * tenant waits for this one to commit, then counts its leases, so two replicas deciding at
   * once cannot both fill the tenant's last place.
   */
  private async withinConcurrentJobs(
    em: EntityManager,
    picks: readonly { jobId: string; tenantId: string }[],
    plans: Map<string, TenantPlan>,
  ): Promise<string[]> {
    const tenants = [...new Set(picks.map((p) => p.tenantId))].sort();
    await this.dispatch.lockTenants(em, tenants);
    const held = await this.dispatch.heldByTenants(em, tenants);
    const room = new Map(
      tenants.map((t) => [t, (plans.get(t)?.concurrentJobs ?? 0) - (held.get(t) ?? 0)]),
    );
    const ids: string[] = [];
    for (const pick of picks) {
      const left = room.get(pick.tenantId) ?? 0;
      if (left <= 0) continue;
      room.set(pick.tenantId, left - 1);
      ids.push(pick.jobId);
    }
    return ids;
  }

  /** The tenants that used up their plan's GPU-seconds this month. */
  private async outOfGpuSeconds(tenantIds: Set<string>): Promise<Set<string>> {
    const out = new Set<string>();
    await Promise.all(
      [...tenantIds].map(async (tenantId) => {
        const usage = await this.plans.gpuUsageOf(tenantId);
        if (usage && gpuQuotaExhausted(usage.used, usage.limit)) out.add(tenantId);
      }),
    );
    return out;
  }

  /** Extends the worker's leases; jobs it no longer holds (cancelled, expired) it must stop. */
  async heartbeat(ctx: RequestContext, request: HeartbeatRequest): Promise<HeartbeatReply> {
    requireWorker(ctx);
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.settings.leaseMs);
    const { held, draining } = await this.scope.runForDispatch(async (em) => {
      const worker = await this.activeWorker(em, request.workerId, now);
      const held = await this.dispatch.extend(em, worker.id, request.jobIds, expiresAt);
      return { held, draining: worker.draining };
    });
    const kept = new Set(held);
    return {
      held,
      stop: request.jobIds.filter((id) => !kept.has(id)),
      leaseExpiresAt: expiresAt.toISOString(),
      draining,
    };
  }

  /**
   * Stores how far a held job has come. Only its holder may, while its lease runs: a report
   * from another worker, or after the lease ended, is refused. Not audited (a worker reports
   * often) and not told on JOB_EVENTS, which keeps state changes.
   */
  async progress(ctx: RequestContext, request: JobProgressRequest): Promise<JobStateReply> {
    requireWorker(ctx);
    const now = this.clock.now();
    return this.scope.runForDispatch(async (em) => {
      const reported = await this.dispatch.progress(
        em,
        request.jobId,
        request.workerId,
        request.progress,
        now,
      );
      if (reported) return reported;
      const job = await this.jobs.byId(em, request.jobId);
      if (!job) throw new DomainError(ErrorCode.NotFound, 'no such job');
      throw new DomainError(ErrorCode.InvalidState, 'the worker does not hold this job', {
        state: job.state,
      });
    });
  }

  start(ctx: RequestContext, request: WorkerJobRequest): Promise<JobStateReply> {
    return this.reportState(ctx, request, 'job.start', (em, job, at) =>
      this.transitions.move(
        em,
        job,
        'running',
        { startedAt: at },
        { at, workerId: request.workerId },
      ),
    );
  }

  complete(ctx: RequestContext, request: CompleteJobRequest): Promise<JobStateReply> {
    return this.reportState(ctx, request, 'job.complete', (em, job, at) => {
      if (job.state !== 'running')
        throw new DomainError(ErrorCode.InvalidState, 'a job completes only after it started', {
          state: job.state,
        });
      return this.transitions.move(
        em,
        job,
        'succeeded',
        { result: request.result ?? null, leaseOwner: null, leaseExpiresAt: null, finishedAt: at },
        { at, workerId: request.workerId },
      );
    });
  }

  fail(ctx: RequestContext, request: FailJobRequest): Promise<JobStateReply> {
    return this.reportState(ctx, request, 'job.fail', (em, job, at) =>
      this.endAttempt(em, job, at, request.error, request.retryable, request.workerId),
    );
  }

  /**
   * Takes back a job the worker will not finish (it is draining): the job returns to its queue,
   * ready at once, and the attempt does not count against its maxAttempts, since the job did
   * not fail; the run so far is metered all the same.
   */
  async release(ctx: RequestContext, request: ReleaseJobRequest): Promise<JobStateReply> {
    const reply = await this.report(ctx, request, 'job.release', (em, job, at) =>
      this.transitions.move(
        em,
        job,
        'queued',
        {
          attempts: Math.max(0, job.attempts - 1),
          notBefore: at,
          leaseOwner: null,
          leaseExpiresAt: null,
        },
        { at, workerId: request.workerId, error: request.reason ?? 'handed back by its worker' },
      ),
    );
    this.workReady(reply.queue);
    return { id: reply.id, state: reply.state, attempts: reply.attempts };
  }

  /** Tells the queue's idle workers that a job is ready; a worker that misses it polls. */
  private workReady(queue: string): void {
    try {
      this.events.publish(SchedulerWorkReady, { queue });
    } catch {
      // a hint only: the workers' polling finds the job
    }
  }

  /**
   * Returns jobs whose leases expired (a worker that died or lost its way), or that ran past
   * their timeout however their worker heartbeats, to their queue with the attempt counted, or
   * to the dead letters after the last one. Safe beside other
   * replicas: each batch is locked `SKIP LOCKED`.
   */
  async expireLeases(): Promise<number> {
    let total = 0;
    for (;;) {
      const now = this.clock.now();
      const count = await this.scope.runForDispatch(async (em) => {
        const expired = await this.dispatch.expired(em, now, EXPIRY_BATCH);
        for (const job of expired) {
          const overran =
            job.startedAt !== null &&
            job.startedAt.getTime() + job.timeoutSeconds * 1000 < now.getTime();
          const reason = overran ? 'the job ran past its timeout' : 'the lease expired';
          await this.endAttempt(em, job, now, reason, true, job.leaseOwner);
        }
        return expired.length;
      });
      total += count;
      if (count > 0) void this.outbox.kick();
      if (count < EXPIRY_BATCH) return total;
    }
  }

  private endAttempt(
    em: EntityManager,
    job: JobRow,
    at: Date,
    error: string,
    retryable: boolean,
    workerId: string | null,
  ): Promise<JobRow> {
    const to = afterFailedAttempt(job.attempts, job.maxAttempts, retryable);
    const released = { leaseOwner: null, leaseExpiresAt: null, lastError: error };
    if (to === 'queued') {
      const delay = retryDelayMs(
        Math.max(1, job.attempts),
        { baseMs: this.settings.retryBaseMs, maxMs: this.settings.retryMaxMs },
        this.settings.random,
      );
      return this.transitions.move(
        em,
        job,
        'queued',
        { ...released, notBefore: new Date(at.getTime() + delay) },
        { at, workerId, error },
      );
    }
    return this.transitions.move(
      em,
      job,
      to,
      { ...released, finishedAt: at },
      { at, workerId, error },
    );
  }

  private async reportState(
    ...args: Parameters<DispatchService['report']>
  ): Promise<JobStateReply> {
    const { id, state, attempts } = await this.report(...args);
    return { id, state, attempts };
  }

  /** A report about a job the worker holds: refused when it holds it no more. */
  private async report(
    ctx: RequestContext,
    request: WorkerJobRequest,
    action: string,
    change: (em: EntityManager, job: JobRow, at: Date) => Promise<JobRow>,
  ): Promise<JobStateReply & { queue: string }> {
    requireWorker(ctx);
    const at = this.clock.now();
    const job = await this.scope.runForDispatch(async (em) => {
      const job = await this.jobs.byId(em, request.jobId, true);
      if (!job) throw new DomainError(ErrorCode.NotFound, 'no such job');
      if (job.leaseOwner !== request.workerId)
        throw new DomainError(ErrorCode.InvalidState, 'the worker does not hold this job', {
          state: job.state,
        });
      return change(em, job, at);
    });
    void this.outbox.kick();
    this.recordJob(ctx, action, job, { workerId: request.workerId, state: job.state });
    return { id: job.id, state: job.state, attempts: job.attempts, queue: job.queue };
  }

  private async activeWorker(em: EntityManager, workerId: string, now: Date) {
    const worker = await this.workers.touch(em, workerId, now);
    if (!worker) throw new DomainError(ErrorCode.NotFound, 'the worker is not registered');
    return worker;
  }

  private recordJob(
    ctx: RequestContext,
    action: string,
    job: JobRow,
    metadata: Record<string, unknown>,
  ): void {
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
