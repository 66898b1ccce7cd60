import { Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  PLATFORM_TENANT_ID,
  type DrainWorkersRequest,
  type WorkerDrainState,
  type WorkerDrainStates,
  type WorkerIdsRequest,
} from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { AuditRecorder, auditActorOf } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { Clock } from '@lattice/service-runtime';
import type { EntityManager } from 'typeorm';
import { QueueRepository } from '../queues/queue.repository';
import { pickWorkersToDrain } from './drain-pick';
import { DrainRepository, type DrainRow } from './drain.repository';

/** The service that scales worker pools; no other caller drains workers. */
export const DRAINING_SERVICE = 'operator';

/**
 * Drain-first scale-in: the operator names the pods of a worker pool that may go, the
 * scheduler drains those holding the least work (leasing them nothing more while they finish
 * what they hold, see `DispatchService.lease`), reports how much each still holds, and undoes
 * a drain the operator abandons. A drain lapses on its own at the time the operator gave, so a
 * worker whose pod was not removed after all goes back to work.
 */
@Injectable()
export class DrainService {
  constructor(
    private readonly scope: TenantScope,
    private readonly drains: DrainRepository,
    private readonly queues: QueueRepository,
    private readonly audit: AuditRecorder,
    private readonly clock: Clock,
  ) {}

  async drain(ctx: RequestContext, request: DrainWorkersRequest): Promise<WorkerDrainStates> {
    requireOperator(ctx);
    const now = this.clock.now();
    const expiresAt = new Date(request.expiresAt);
    if (expiresAt <= now)
      throw new DomainError(ErrorCode.ValidationFailed, 'expiresAt must lie in the future', {
        expiresAt: request.expiresAt,
      });
    const from = request.pick?.from ?? [];
    const { rows, drained } = await this.scope.runForDispatch(async (em) => {
      if (!(await this.queues.byName(em, request.queue)))
        throw new DomainError(ErrorCode.NotFound, `no queue named ${request.queue}`);
      const known = new Map(
        (await this.drains.workers(em, [...request.drain, ...from], true)).map((w) => [w.id, w]),
      );
      const picked = pickWorkersToDrain(
        from.map((id) => {
          const worker = known.get(id);
          return {
            workerId: id,
            heldJobs: worker?.heldJobs ?? 0,
            draining: worker?.draining ?? false,
            registeredAt: worker && registered(worker) ? worker.registeredAt.getTime() : undefined,
          };
        }),
        request.pick?.count ?? 0,
      );
      const drained = [...new Set([...request.drain, ...picked])];
      await this.drains.drain(em, drained, request.queue, now, expiresAt);
      return { rows: await this.drains.workers(em, drained), drained };
    });
    this.record(ctx, 'worker.drain', drained, {
      queue: request.queue,
      expiresAt: request.expiresAt,
    });
    return { workers: rows.map(stateOf) };
  }

  async state(ctx: RequestContext, request: WorkerIdsRequest): Promise<WorkerDrainStates> {
    requireOperator(ctx);
    const rows = await this.scope.runForDispatch((em) =>
      this.drains.workers(em, [...new Set(request.workers)]),
    );
    return { workers: this.inOrder(request.workers, rows) };
  }

  async undrain(ctx: RequestContext, request: WorkerIdsRequest): Promise<WorkerDrainStates> {
    requireOperator(ctx);
    const ids = [...new Set(request.workers)];
    const { released, rows } = await this.scope.runForDispatch(async (em: EntityManager) => {
      const released = await this.drains.release(em, { ids });
      return { released, rows: await this.drains.workers(em, ids) };
    });
    if (released.length > 0) this.record(ctx, 'worker.undrain', released, {});
    return { workers: this.inOrder(request.workers, rows) };
  }

  /** Ends drains whose time ran out; safe on every replica. */
  async lapse(): Promise<number> {
    const released = await this.scope.runForDispatch((em) =>
      this.drains.release(em, { lapsedBefore: this.clock.now() }),
    );
    return released.length;
  }

  /** Every asked-for worker, in the order asked; one that has no row holds nothing. */
  private inOrder(ids: readonly string[], rows: DrainRow[]): WorkerDrainState[] {
    const byId = new Map(rows.map((r) => [r.id, r]));
    return [...new Set(ids)].map((id) => {
      const row = byId.get(id);
      return row
        ? stateOf(row)
        : {
            workerId: id,
            registered: false,
            draining: false,
            heldJobs: 0,
            drainStartedAt: null,
            drainExpiresAt: null,
            lastSeenAt: null,
          };
    });
  }

  private record(
    ctx: RequestContext,
    action: string,
    workers: readonly string[],
    metadata: Record<string, unknown>,
  ): void {
    for (const id of workers)
      this.audit.record({
        tenantId: PLATFORM_TENANT_ID,
        actor: auditActorOf(ctx),
        action,
        resource: { type: 'Worker', id },
        outcome: 'success',
        requestId: ctx.requestId,
        metadata,
      });
  }
}

function requireOperator(ctx: RequestContext): void {
  if (ctx.actor.type !== 'service' || ctx.actor.id !== DRAINING_SERVICE)
    throw new DomainError(ErrorCode.Forbidden, 'only the scaling operator drains workers');
}

function registered(row: DrainRow): boolean {
  return row.lastSeenAt.getTime() > 0;
}

function stateOf(row: DrainRow): WorkerDrainState {
  const seen = registered(row);
  return {
    workerId: row.id,
    registered: seen,
    draining: row.draining,
    heldJobs: row.heldJobs,
    drainStartedAt: row.drainStartedAt?.toISOString() ?? null,
    drainExpiresAt: row.drainExpiresAt?.toISOString() ?? null,
    lastSeenAt: seen ? row.lastSeenAt.toISOString() : null,
  };
}
