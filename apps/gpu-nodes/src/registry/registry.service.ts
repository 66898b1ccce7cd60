import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  DomainError,
  ErrorCode,
  GPU_NODE_STATES,
  PLATFORM_TENANT_ID,
  type GpuFleetStatus,
  type GpuListNodesQuery,
  type GpuNodeList,
  type GpuNodeState,
  type GpuNodeView,
  type GpuView,
  type RegisterGpuNodeRequest,
} from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { AuditRecorder, auditActorOf } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { Clock } from '@lattice/service-runtime';
import { gpuAccess } from '../gpu-access';
import { isRoutable } from '../health/health';
import { PLACEMENT_SETTINGS, type PlacementSettings } from '../leases/lease.service';
import { isUnsettled } from '../placement/placement';
import { NodeRepository, type GpuRow, type NodeRow } from './node.repository';

const notFound = () => new DomainError(ErrorCode.NotFound, 'no such GPU node');

/** The fleet as platform operators see and steer it. */
@Injectable()
export class RegistryService {
  constructor(
    private readonly scope: TenantScope,
    private readonly nodes: NodeRepository,
    private readonly audit: AuditRecorder,
    private readonly clock: Clock,
    @Inject(PLACEMENT_SETTINGS) private readonly placement: PlacementSettings,
  ) {}

  /** Registers a node by hand (it stays offline until its agent beats), or re-describes one. */
  async register(ctx: RequestContext, request: RegisterGpuNodeRequest): Promise<GpuNodeView> {
    gpuAccess.fleet(ctx, 'create');
    const at = this.clock.now();
    const view = await this.scope.runForDispatch(async (em) => {
      await this.nodes.ensure(em, randomUUID(), request.name, at);
      const node = (await this.nodes.byName(em, request.name, true))!;
      const described = await this.nodes.describe(em, node.id, request, at);
      return this.view(described, await this.nodes.gpusOf(em, [node.id]));
    });
    this.record(ctx, 'gpu.node.register', view, { serves: request.serves.map((s) => s.model) });
    return view;
  }

  async list(ctx: RequestContext, query: GpuListNodesQuery): Promise<GpuNodeList> {
    gpuAccess.fleet(ctx, 'read');
    return this.scope.runForDispatch(async (em) => {
      const nodes = await this.nodes.list(em, query);
      const gpus = await this.nodes.gpusOf(
        em,
        nodes.map((n) => n.id),
      );
      return { items: nodes.map((n) => this.view(n, gpus)) };
    });
  }

  async get(ctx: RequestContext, id: string): Promise<GpuNodeView> {
    gpuAccess.fleet(ctx, 'read');
    return this.scope.runForDispatch(async (em) => {
      const node = await this.nodes.byId(em, id);
      if (!node) throw notFound();
      return this.view(node, await this.nodes.gpusOf(em, [id]));
    });
  }

  /** Out of routing and placement now; its leases run until released or expired. */
  drain(ctx: RequestContext, id: string): Promise<GpuNodeView> {
    return this.steer(ctx, id, 'gpu.node.drain', (node) => ({
      cordoned: node.cordoned,
      draining: true,
    }));
  }

  /** No new leases; routing and what it holds go on. */
  cordon(ctx: RequestContext, id: string): Promise<GpuNodeView> {
    return this.steer(ctx, id, 'gpu.node.cordon', (node) => ({
      cordoned: true,
      draining: node.draining,
    }));
  }

  /** Back to taking leases and calls, as its health allows. */
  uncordon(ctx: RequestContext, id: string): Promise<GpuNodeView> {
    return this.steer(ctx, id, 'gpu.node.uncordon', () => ({ cordoned: false, draining: false }));
  }

  async status(ctx: RequestContext): Promise<GpuFleetStatus> {
    gpuAccess.fleet(ctx, 'read');
    const { items } = await this.list(ctx, {});
    return fleetStatus(items, this.clock.now());
  }

  private async steer(
    ctx: RequestContext,
    id: string,
    action: string,
    flags: (node: NodeRow) => { cordoned: boolean; draining: boolean },
  ): Promise<GpuNodeView> {
    gpuAccess.fleet(ctx, 'update');
    const at = this.clock.now();
    const view = await this.scope.runForDispatch(async (em) => {
      const node = await this.nodes.byId(em, id, true);
      if (!node) throw notFound();
      const next = flags(node);
      await this.nodes.setFlags(em, id, next, at);
      // the state follows the flags now, not at the next heartbeat
      const state: GpuNodeState =
        next.draining && node.health !== 'offline' ? 'draining' : node.health;
      const updated = await this.nodes.setHealth(
        em,
        id,
        { state, health: node.health, rejoinIn: node.rejoinIn, score: node.score },
        at,
      );
      return this.view(updated, await this.nodes.gpusOf(em, [id]));
    });
    this.record(ctx, action, view, { state: view.state });
    return view;
  }

  view(node: NodeRow, gpus: readonly GpuRow[]): GpuNodeView {
    const calls = node.callerCalls;
    return {
      id: node.id,
      name: node.name,
      kubeNode: node.kubeNode,
      labels: node.labels,
      serves: node.serves,
      state: node.state,
      score: node.score,
      cordoned: node.cordoned,
      draining: node.draining,
      routable: isRoutable(node.state),
      source: node.source,
      driverVersion: node.driverVersion,
      sourceError: node.sourceError,
      callerErrorRate: calls > 0 ? Math.min(1, node.callerFailures / calls) : 0,
      lastHeartbeatAt: node.lastHeartbeatAt?.toISOString() ?? null,
      registeredAt: node.registeredAt.toISOString(),
      gpus: gpus
        .filter((g) => g.nodeId === node.id)
        .map((g) => gpuView(g, node.driverVersion, this.placement.settleToleranceMiB)),
    };
  }

  private record(
    ctx: RequestContext,
    action: string,
    node: GpuNodeView,
    metadata: Record<string, unknown>,
  ): void {
    this.audit.record({
      tenantId: PLATFORM_TENANT_ID,
      actor: auditActorOf(ctx),
      action,
      resource: { type: 'GpuNode', id: node.id },
      outcome: 'success',
      requestId: ctx.requestId,
      metadata: { name: node.name, ...metadata },
    });
  }
}

export function gpuView(g: GpuRow, driverVersion: string | null, toleranceMiB: number): GpuView {
  return {
    uuid: g.uuid,
    index: g.index,
    model: g.model,
    pciBusId: g.pciBusId,
    driverVersion,
    totalMiB: g.totalMiB,
    reservedMiB: g.reservedMiB,
    usedMiB: g.usedMiB,
    freeMiB: g.freeMiB,
    leasedMiB: g.leasedMiB,
    leaseCount: g.leaseCount,
    utilizationPercent: g.utilizationPercent,
    temperatureC: g.temperatureC,
    powerWatts: g.powerWatts,
    lastXid: g.lastXid,
    lost: g.lost,
    unsettled: isUnsettled({ measuredUsedMiB: g.usedMiB, leasedMiB: g.leasedMiB }, toleranceMiB),
    score: g.score,
    sampledAt: g.sampledAt?.toISOString() ?? null,
  };
}

/** The fleet summed up: nodes by state, GPUs, VRAM per GPU model. */
export function fleetStatus(nodes: readonly GpuNodeView[], at: Date): GpuFleetStatus {
  const byState = Object.fromEntries(GPU_NODE_STATES.map((s) => [s, 0])) as Record<
    GpuNodeState,
    number
  >;
  const models = new Map<
    string,
    {
      gpus: number;
      totalMiB: number;
      usedMiB: number;
      freeMiB: number;
      leasedMiB: number;
      util: number[];
    }
  >();
  const vram = { totalMiB: 0, usedMiB: 0, freeMiB: 0, leasedMiB: 0 };
  let gpus = 0;
  let lost = 0;
  let unsettled = 0;
  for (const node of nodes) {
    byState[node.state] += 1;
    for (const g of node.gpus) {
      gpus += 1;
      if (g.lost) lost += 1;
      if (g.unsettled) unsettled += 1;
      const m = models.get(g.model) ?? {
        gpus: 0,
        totalMiB: 0,
        usedMiB: 0,
        freeMiB: 0,
        leasedMiB: 0,
        util: [],
      };
      m.gpus += 1;
      m.totalMiB += g.totalMiB;
      m.usedMiB += g.usedMiB;
      m.freeMiB += g.freeMiB;
      m.leasedMiB += g.leasedMiB;
      if (g.utilizationPercent !== null) m.util.push(g.utilizationPercent);
      models.set(g.model, m);
      vram.totalMiB += g.totalMiB;
      vram.usedMiB += g.usedMiB;
      vram.freeMiB += g.freeMiB;
      vram.leasedMiB += g.leasedMiB;
    }
  }
  return {
    nodes: { total: nodes.length, routable: nodes.filter((n) => n.routable).length, byState },
    gpus: { total: gpus, lost, unsettled },
    vram,
    models: [...models]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([model, m]) => ({
        model,
        gpus: m.gpus,
        totalMiB: m.totalMiB,
        usedMiB: m.usedMiB,
        freeMiB: m.freeMiB,
        leasedMiB: m.leasedMiB,
        utilizationPercent: m.util.length
          ? Math.round((m.util.reduce((a, b) => a + b, 0) / m.util.length) * 10) / 10
          : null,
      })),
    observedAt: at.toISOString(),
  };
}
