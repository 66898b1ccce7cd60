import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  DomainError,
  ErrorCode,
  TenantsQuotaCheck,
  type CreateGpuLeaseRequest,
  type GpuLeaseList,
  type GpuLeaseView,
  type ListGpuLeasesQuery,
  type RenewGpuLeaseRequest,
} from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { AuditRecorder, RpcClient, auditActorOf } from '@lattice/messaging';
import { serviceContext, type RequestContext } from '@lattice/request-context';
import { Clock } from '@lattice/service-runtime';
import { gpuAccess } from '../gpu-access';
import { isPlaceable } from '../health/health';
import { placeLease, type GpuCapacity, type PlacementRefusal } from '../placement/placement';
import { NodeRepository } from '../registry/node.repository';
import { gpuSecondsOf } from '../usage/gpu-seconds';
import { LeaseEndings } from './lease-endings';
import { LeaseRepository, type LeaseRow } from './lease.repository';

export const PLACEMENT_SETTINGS = Symbol('PLACEMENT_SETTINGS');

export interface PlacementSettings {
  cudaContextMiB: number;
  settleToleranceMiB: number;
}

/**
 * VRAM leases: placed by the pure placement module on GPUs locked for the decision, so two
 * replicas placing at once wait for each other and never over-commit a card; renewed by their
 * holders, released, expired by the sweep, and lost with their node.
 */
@Injectable()
export class LeaseService {
  constructor(
    private readonly scope: TenantScope,
    private readonly leases: LeaseRepository,
    private readonly nodes: NodeRepository,
    private readonly endings: LeaseEndings,
    private readonly rpc: RpcClient,
    private readonly audit: AuditRecorder,
    private readonly clock: Clock,
    @Inject(PLACEMENT_SETTINGS) private readonly settings: PlacementSettings,
  ) {}

  async create(ctx: RequestContext, request: CreateGpuLeaseRequest): Promise<GpuLeaseView> {
    const { tenantId, ownerId } = gpuAccess.lease(ctx, 'create', request.tenantId);
    await this.holdQuota(tenantId, request.ttlSeconds);
    const now = this.clock.now();
    const id = randomUUID();
    const lease = await this.scope.runForDispatch(async (em) => {
      // every GPU, in one order: a placement on another replica waits here for this one
      await this.nodes.lockAllGpus(em);
      const nodes = await this.nodes.list(em, {});
      const gpus = await this.nodes.gpusOf(
        em,
        nodes.map((n) => n.id),
      );
      const byId = new Map(nodes.map((n) => [n.id, n]));
      const capacities: GpuCapacity[] = gpus.map((g) => {
        const node = byId.get(g.nodeId)!;
        const serves = !request.model || node.serves.some((s) => s.model === request.model);
        return {
          uuid: g.uuid,
          node: node.name,
          totalMiB: g.totalMiB,
          reservedMiB: g.reservedMiB,
          measuredUsedMiB: g.usedMiB,
          leasedMiB: g.leasedMiB,
          leaseCount: g.leaseCount,
          labels: node.labels,
          eligible:
            serves &&
            !g.lost &&
            isPlaceable({
              state: node.state,
              health: node.health,
              rejoinIn: node.rejoinIn,
              cordoned: node.cordoned,
            }),
        };
      });
      const decision = placeLease(
        capacities,
        { vramMiB: request.vramMiB, nodeLabels: request.nodeLabels },
        this.settings,
      );
      if (!decision.ok) throw refusal(decision.reason, decision.detail);
      const gpu = gpus.find((g) => g.uuid === decision.gpu)!;
      await this.leases.insert(em, {
        id,
        tenantId,
        ownerId,
        nodeId: gpu.nodeId,
        gpuUuid: gpu.uuid,
        vramMiB: request.vramMiB,
        chargedMiB: decision.chargedMiB,
        model: request.model ?? null,
        holderNamespace: request.holder?.namespace ?? null,
        holderKind: request.holder?.kind ?? null,
        holderName: request.holder?.name ?? null,
        state: 'active',
        ttlSeconds: request.ttlSeconds,
        expiresAt: new Date(now.getTime() + request.ttlSeconds * 1000),
        createdAt: now,
      });
      return (await this.leases.byId(em, id))!;
    });
    this.endings.announce([lease]);
    this.record(ctx, 'gpu.lease.create', lease, {
      node: lease.node,
      gpu: lease.gpuUuid,
      vramMiB: lease.vramMiB,
    });
    return toLeaseView(lease);
  }

  /** Keeps the lease for another `ttlSeconds`; a lease that ended says how (InvalidState). */
  async renew(ctx: RequestContext, request: RenewGpuLeaseRequest): Promise<GpuLeaseView> {
    const { tenantId } = gpuAccess.lease(ctx, 'update', request.tenantId);
    const now = this.clock.now();
    const { lease, expired } = await this.scope.run(tenantId, async (em) => {
      const lease = await this.leases.byId(em, request.id, true);
      if (!lease) throw gpuAccess.hiddenLease();
      if (lease.state === 'active' && lease.expiresAt.getTime() <= now.getTime()) {
        const ended = await this.endings.end(em, lease.id, 'expired', now, 'not renewed in time');
        return { lease: ended ?? lease, expired: true };
      }
      if (lease.state !== 'active') return { lease, expired: false };
      const ttlSeconds = request.ttlSeconds ?? lease.ttlSeconds;
      const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
      await this.leases.renew(em, lease.id, ttlSeconds, expiresAt);
      return { lease: { ...lease, ttlSeconds, expiresAt }, expired: false };
    });
    if (expired) this.endings.announce([lease]);
    if (lease.state !== 'active')
      throw new DomainError(ErrorCode.InvalidState, `the lease is ${lease.state}`, {
        state: lease.state,
        reason: lease.endReason,
      });
    return toLeaseView(lease);
  }

  /** Gives the memory back; releasing a lease that already ended returns it as it ended. */
  async release(ctx: RequestContext, id: string, tenantIdAsked?: string): Promise<GpuLeaseView> {
    const { tenantId } = gpuAccess.lease(ctx, 'delete', tenantIdAsked);
    const now = this.clock.now();
    const { lease, released } = await this.scope.run(tenantId, async (em) => {
      const lease = await this.leases.byId(em, id, true);
      if (!lease) throw gpuAccess.hiddenLease();
      if (lease.state !== 'active') return { lease, released: false };
      return { lease: (await this.endings.end(em, id, 'released', now, null))!, released: true };
    });
    if (released) {
      this.endings.announce([lease]);
      this.record(ctx, 'gpu.lease.release', lease, { node: lease.node, gpu: lease.gpuUuid });
    }
    return toLeaseView(lease);
  }

  async get(ctx: RequestContext, id: string, tenantIdAsked?: string): Promise<GpuLeaseView> {
    const { tenantId } = gpuAccess.lease(ctx, 'read', tenantIdAsked);
    const lease = await this.scope.run(tenantId, (em) => this.leases.byId(em, id));
    if (!lease) throw gpuAccess.hiddenLease();
    return toLeaseView(lease);
  }

  async list(ctx: RequestContext, query: ListGpuLeasesQuery): Promise<GpuLeaseList> {
    const { tenantId } = gpuAccess.lease(ctx, 'read', query.tenantId);
    const rows = await this.scope.run(tenantId, (em) => this.leases.list(em, query));
    return { items: rows.map(toLeaseView) };
  }

  /** Ends the leases whose holders stopped renewing them. */
  async expire(): Promise<number> {
    const now = this.clock.now();
    const ended = await this.scope.runForDispatch(async (em) => {
      const due = await this.leases.expired(em, now, 200);
      const out: LeaseRow[] = [];
      for (const lease of due) {
        const done = await this.endings.end(em, lease.id, 'expired', now, 'not renewed in time');
        if (done) out.push(done);
      }
      return out;
    });
    this.endings.announce(ended);
    return ended.length;
  }

  /**
   * The tenant's plan must leave room for what its active leases have used so far and for this
   * one's first term (as if it held a whole card), or the lease is refused.
   */
  private async holdQuota(tenantId: string, ttlSeconds: number): Promise<void> {
    const now = this.clock.now();
    const active = await this.scope.run(tenantId, (em) => this.leases.active(em));
    const accrued = active.reduce((sum, l) => sum + gpuSecondsOf(l, now), 0);
    const quota = await this.rpc.request(
      TenantsQuotaCheck,
      { tenantId, resource: 'gpuSeconds', amount: accrued + ttlSeconds },
      serviceContext('gpu-nodes'),
    );
    if (!quota.allowed)
      throw new DomainError(
        ErrorCode.QuotaExceeded,
        'the plan has no GPU time left for this lease',
        {
          resource: 'gpuSeconds',
          used: quota.used,
          limit: quota.limit,
          period: quota.period,
        },
      );
  }

  private record(
    ctx: RequestContext,
    action: string,
    lease: LeaseRow,
    metadata: Record<string, unknown>,
  ): void {
    this.audit.record({
      tenantId: lease.tenantId,
      actor: auditActorOf(ctx),
      action,
      resource: { type: 'GpuLease', id: lease.id },
      outcome: 'success',
      requestId: ctx.requestId,
      metadata,
    });
  }
}

function refusal(reason: PlacementRefusal, detail: string): DomainError {
  switch (reason) {
    case 'invalid-request':
    case 'too-large':
      return new DomainError(ErrorCode.ValidationFailed, detail, { reason });
    case 'no-matching-node':
      return new DomainError(ErrorCode.NotFound, detail, { reason });
    // the fleet cannot take it now: a conflict with its present state, to retry later
    case 'no-eligible-gpu':
    case 'unsettled':
    case 'no-capacity':
      return new DomainError(ErrorCode.Conflict, detail, { reason });
    default:
      return new DomainError(ErrorCode.Conflict, detail, { reason: reason satisfies never });
  }
}

export function toLeaseView(lease: LeaseRow): GpuLeaseView {
  return {
    id: lease.id,
    tenantId: lease.tenantId,
    nodeId: lease.nodeId,
    node: lease.node,
    gpuUuid: lease.gpuUuid,
    vramMiB: lease.vramMiB,
    chargedMiB: lease.chargedMiB,
    model: lease.model,
    state: lease.state,
    ttlSeconds: lease.ttlSeconds,
    expiresAt: lease.expiresAt.toISOString(),
    createdAt: lease.createdAt.toISOString(),
    endedAt: lease.endedAt?.toISOString() ?? null,
    endReason: lease.endReason,
  };
}
