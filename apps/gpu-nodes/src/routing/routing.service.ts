import { Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  type GpuRouteFailureRequest,
  type GpuRouteReply,
  type GpuRouteRequest,
} from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import type { RequestContext } from '@lattice/request-context';
import { gpuAccess } from '../gpu-access';
import { NodeHealthService } from '../health/node-health.service';
import { NodeRepository } from '../registry/node.repository';
import { SmoothWeightedRoundRobin, routingWeight } from './routing';

/**
 * Routes calls for a model among the nodes in routing that serve it, by smooth weighted round
 * robin (weights from health and free VRAM). The candidates are read at every call, so a node
 * that left routing gets no call after the transaction that took it out committed; the
 * rotation itself is kept per model, so weights steer the spread across calls.
 */
@Injectable()
export class RoutingService {
  private readonly rotations = new Map<string, SmoothWeightedRoundRobin>();
  /** Routes given per node since the last flush, for the caller error rate. */
  private calls = new Map<string, number>();

  constructor(
    private readonly scope: TenantScope,
    private readonly nodes: NodeRepository,
    private readonly health: NodeHealthService,
  ) {}

  async route(ctx: RequestContext, request: GpuRouteRequest): Promise<GpuRouteReply> {
    gpuAccess.route(ctx);
    return this.pick(request.model, new Set(request.exclude));
  }

  /** Counts the failure against the node, then gives the next node, never the one that failed. */
  async reportFailure(
    ctx: RequestContext,
    request: GpuRouteFailureRequest,
  ): Promise<GpuRouteReply> {
    gpuAccess.route(ctx);
    await this.health.callerFailure(request.node);
    return this.pick(request.model, new Set([...request.exclude, request.node]));
  }

  /** Writes the routes given since the last call into the nodes' caller windows. */
  async flushCalls(): Promise<void> {
    if (this.calls.size === 0) return;
    const calls = this.calls;
    this.calls = new Map();
    await this.scope.runForDispatch((em) => this.nodes.addCallerCalls(em, calls));
  }

  private async pick(model: string, excludeNames: ReadonlySet<string>): Promise<GpuRouteReply> {
    const candidates = await this.scope.runForDispatch((em) => this.nodes.routable(em, model));
    let rotation = this.rotations.get(model);
    if (!rotation) {
      rotation = new SmoothWeightedRoundRobin();
      this.rotations.set(model, rotation);
    }
    rotation.update(
      candidates.map((n) => ({
        nodeId: n.id,
        weight: routingWeight(n.score, n.totalMiB > 0 ? n.freeMiB / n.totalMiB : 0),
      })),
    );
    const excluded = new Set(candidates.filter((n) => excludeNames.has(n.name)).map((n) => n.id));
    const chosen = rotation.next(excluded);
    const node = candidates.find((n) => n.id === chosen);
    const served = node?.serves.find((s) => s.model === model);
    if (!node || !served)
      throw new DomainError(ErrorCode.Unavailable, `no healthy node serves ${model}`, {
        model,
        tried: [...excludeNames],
      });
    this.calls.set(node.id, (this.calls.get(node.id) ?? 0) + 1);
    return { model, nodeId: node.id, node: node.name, endpoint: served.endpoint };
  }
}
