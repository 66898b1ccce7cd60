import { Injectable } from '@nestjs/common';
import { actingTenant } from '@lattice/authz';
import {
  DomainError,
  ErrorCode,
  PLATFORM_TENANT_ID,
  type CreateQueueRequest,
  type QueueList,
  type QueueView,
  type SchedulerQueueDepthReply,
} from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { AuditRecorder, auditActorOf } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { Clock } from '@lattice/service-runtime';
import type { EntityManager } from 'typeorm';
import { QueueRepository, type QueueFiguresRow, type QueueRow } from './queue.repository';

/** Whose jobs a caller's queue figures count: every tenant's, or one tenant's own. */
type Reach = { every: true } | { every: false; tenantId: string };

/** Queues: declared by platform operators, read by everyone with their own figures. */
@Injectable()
export class QueueService {
  constructor(
    private readonly scope: TenantScope,
    private readonly queues: QueueRepository,
    private readonly audit: AuditRecorder,
    private readonly clock: Clock,
  ) {}

  async create(ctx: RequestContext, request: CreateQueueRequest): Promise<QueueView> {
    actingTenant(ctx, {
      action: 'create',
      resource: 'Queue',
      reach: 'every-tenant',
      refusal: { code: ErrorCode.Forbidden, message: 'only platform operators declare queues' },
    });
    const created = await this.scope.runAsPlatform((em) =>
      this.queues.insert(em, {
        name: request.name,
        description: request.description ?? null,
        workerPool: request.workerPool,
        maxTenantShare: request.maxTenantShare,
        defaultTimeoutSeconds: request.defaultTimeoutSeconds,
        defaultMaxAttempts: request.defaultMaxAttempts,
        gpusPerJob: request.gpusPerJob,
        createdAt: this.clock.now(),
      }),
    );
    if (!created)
      throw new DomainError(ErrorCode.Conflict, `a queue named ${request.name} exists`, {
        name: request.name,
      });
    this.audit.record({
      tenantId: PLATFORM_TENANT_ID,
      actor: auditActorOf(ctx),
      action: 'queue.create',
      resource: { type: 'Queue', id: created.name },
      outcome: 'success',
      requestId: ctx.requestId,
      metadata: {
        workerPool: created.workerPool,
        maxTenantShare: created.maxTenantShare,
        gpusPerJob: created.gpusPerJob,
      },
    });
    return toView(created, undefined, this.clock.now(), true);
  }

  async list(ctx: RequestContext): Promise<QueueList> {
    const reach = this.reach(ctx);
    const now = this.clock.now();
    const { rows, figures } = await this.figuresScope(reach, async (em) => ({
      rows: await this.queues.list(em),
      figures: await this.queues.figures(em),
    }));
    const byQueue = new Map(figures.map((f) => [f.queue, f]));
    return { items: rows.map((q) => toView(q, byQueue.get(q.name), now, reach.every)) };
  }

  async get(ctx: RequestContext, name: string): Promise<QueueView> {
    const reach = this.reach(ctx);
    const { row, figures } = await this.figuresScope(reach, async (em) => ({
      row: await this.queues.byName(em, name),
      figures: await this.queues.figures(em, name),
    }));
    if (!row) throw new DomainError(ErrorCode.NotFound, `no queue named ${name}`);
    return toView(row, figures[0], this.clock.now(), reach.every);
  }

  /**
   * The backlog a worker pool scales on, across every tenant. Only other services (the
   * operator) ask; it counts every tenant's jobs, so it is read in the dispatcher's scope.
   */
  async depth(ctx: RequestContext, queue: string): Promise<SchedulerQueueDepthReply> {
    if (ctx.actor.type !== 'service')
      throw new DomainError(ErrorCode.Forbidden, 'queue depth is for platform services');
    const figures = await this.scope.runForDispatch((em) => this.queues.figures(em, queue));
    return {
      queue,
      queued: figures[0]?.queued ?? 0,
      inFlight: figures[0]?.running ?? 0,
      observedAt: this.clock.now().toISOString(),
    };
  }

  private reach(ctx: RequestContext): Reach {
    if (ctx.actor.type === 'service') return { every: true };
    // a queue's figures are about jobs: whoever reads the tenant's jobs reads them
    const acting = actingTenant(ctx, { action: 'read', resource: 'Job', reach: 'some' });
    return acting.can('read', 'Job', 'every-tenant')
      ? { every: true }
      : { every: false, tenantId: acting.tenantId };
  }

  /** The same statements either way: row-level security narrows a tenant to its own jobs. */
  private figuresScope<T>(reach: Reach, work: (em: EntityManager) => Promise<T>): Promise<T> {
    return reach.every ? this.scope.runForDispatch(work) : this.scope.run(reach.tenantId, work);
  }
}

function toView(
  q: QueueRow,
  figures: QueueFiguresRow | undefined,
  now: Date,
  every: boolean,
): QueueView {
  return {
    name: q.name,
    description: q.description,
    workerPool: q.workerPool,
    maxTenantShare: q.maxTenantShare,
    defaultTimeoutSeconds: q.defaultTimeoutSeconds,
    defaultMaxAttempts: q.defaultMaxAttempts,
    gpusPerJob: q.gpusPerJob,
    createdAt: q.createdAt.toISOString(),
    figures: {
      queued: figures?.queued ?? 0,
      running: figures?.running ?? 0,
      oldestWaitSeconds: figures?.oldestQueuedAt
        ? Math.max(0, (now.getTime() - figures.oldestQueuedAt.getTime()) / 1000)
        : null,
    },
    figuresOf: every ? 'every-tenant' : 'tenant',
  };
}
