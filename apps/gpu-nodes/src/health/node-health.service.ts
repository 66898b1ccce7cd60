import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import type { GpuNodeHeartbeat } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { Clock, LOGGER } from '@lattice/service-runtime';
import { LeaseEndings } from '../leases/lease-endings';
import { LeaseRepository, type LeaseRow } from '../leases/lease.repository';
import { NodeRepository, type GpuRow, type NodeRow } from '../registry/node.repository';
import {
  gpuHealth,
  isRoutable,
  nextNodeState,
  nodeHealth,
  type HealthConfig,
  type Score,
} from './health';

export const HEALTH_SETTINGS = Symbol('HEALTH_SETTINGS');

/**
 * Calls a window needs before its failures count at their full rate: with few calls, one
 * failure is not yet a pattern (one failed call of one would read as a 100 % error rate).
 */
export const MIN_CALLER_CALLS = 20;

export interface HealthSettings {
  health: Partial<HealthConfig>;
  /** The window over which caller failures count against a node. */
  callerWindowMs: number;
  /** The interval assumed for a node that never said its own. */
  defaultIntervalMs: number;
}

/** What one observation of a node did. */
export interface HealthOutcome {
  node: NodeRow;
  /** The node was in routing before and is not now. */
  left: boolean;
  /** Leases that were lost with it. */
  lost: LeaseRow[];
}

interface Observation {
  heartbeatAgeMs: number;
  intervalMs: number;
  gpus: readonly Score[];
  sourceError: boolean;
  fresh: boolean;
}

/**
 * Node health: every heartbeat (and every sweep of nodes that stopped beating) scores the
 * node with the pure health module and moves it through its states. A node that falls out of
 * routing loses its leases in the same transaction, and their holders are told once it commits.
 */
@Injectable()
export class NodeHealthService {
  constructor(
    private readonly scope: TenantScope,
    private readonly nodes: NodeRepository,
    private readonly leases: LeaseRepository,
    private readonly endings: LeaseEndings,
    private readonly clock: Clock,
    @Inject(HEALTH_SETTINGS) private readonly settings: HealthSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Registers the node on its first heartbeat, refreshes its GPUs and health on every one. */
  async heartbeat(heartbeat: GpuNodeHeartbeat): Promise<HealthOutcome> {
    const at = this.clock.now();
    const outcome = await this.scope.runForDispatch(async (em) => {
      const added = await this.nodes.ensure(em, randomUUID(), heartbeat.node, at);
      const node = (await this.nodes.byName(em, heartbeat.node, true))!;
      if (added) this.logger.info({ node: heartbeat.node }, 'GPU node registered by its agent');
      const scores = heartbeat.gpus.map((g) => gpuHealth(g, this.settings.health));
      await this.nodes.beat(em, node.id, heartbeat, at);
      await this.nodes.saveReadings(
        em,
        node.id,
        heartbeat,
        new Map(heartbeat.gpus.map((g, i) => [g.uuid, scores[i]!.score])),
      );
      const current = await this.callerWindow(em, node, at);
      return this.observe(em, current, at, {
        heartbeatAgeMs: 0,
        intervalMs: heartbeat.intervalMs,
        gpus: scores,
        sourceError: heartbeat.sourceError !== null,
        fresh: true,
      });
    });
    this.after(outcome);
    return outcome;
  }

  /** Ages the nodes whose heartbeats are late: a node that stopped beating leaves routing. */
  async sweep(): Promise<HealthOutcome[]> {
    const at = this.clock.now();
    const outcomes = await this.scope.runForDispatch(async (em) => {
      const late = await this.nodes.late(em, at, 100);
      const gpus = await this.nodes.gpusOf(
        em,
        late.map((n) => n.id),
      );
      const results: HealthOutcome[] = [];
      for (const node of late) results.push(await this.reobserve(em, node, gpus, at));
      return results;
    });
    for (const outcome of outcomes) this.after(outcome);
    return outcomes;
  }

  /** A caller's call to the node failed: it counts against the node's health now. */
  async callerFailure(nodeName: string): Promise<HealthOutcome | null> {
    const at = this.clock.now();
    const outcome = await this.scope.runForDispatch(async (em) => {
      const locked = await this.nodes.byName(em, nodeName, true);
      if (!locked) return null;
      const node = await this.nodes.addCallerFailure(em, nodeName);
      if (!node || node.lastHeartbeatAt === null) return null;
      const gpus = await this.nodes.gpusOf(em, [node.id]);
      return this.reobserve(em, node, gpus, at);
    });
    if (outcome) this.after(outcome);
    return outcome;
  }

  /** Scores the node again from what is stored (no new heartbeat). */
  private reobserve(
    em: EntityManager,
    node: NodeRow,
    gpus: readonly GpuRow[],
    at: Date,
  ): Promise<HealthOutcome> {
    return this.observe(em, node, at, {
      heartbeatAgeMs: Math.max(0, at.getTime() - (node.lastHeartbeatAt?.getTime() ?? 0)),
      intervalMs: node.intervalMs ?? this.settings.defaultIntervalMs,
      gpus: gpus.filter((g) => g.nodeId === node.id).map((g) => gpuHealth(g, this.settings.health)),
      sourceError: node.sourceError !== null,
      fresh: false,
    });
  }

  private async observe(
    em: EntityManager,
    node: NodeRow,
    at: Date,
    observation: Observation,
  ): Promise<HealthOutcome> {
    const errorRate = node.callerFailures / Math.max(node.callerCalls, MIN_CALLER_CALLS);
    const { score } = nodeHealth({ ...observation, errorRate }, this.settings.health);
    const next = nextNodeState(
      { state: node.state, health: node.health, rejoinIn: node.rejoinIn, cordoned: node.cordoned },
      {
        score,
        heartbeatAgeMs: observation.heartbeatAgeMs,
        intervalMs: observation.intervalMs,
        draining: node.draining,
        cordoned: node.cordoned,
        fresh: observation.fresh,
      },
      this.settings.health,
    );
    const updated = await this.nodes.setHealth(
      em,
      node.id,
      { state: next.state, health: next.health, rejoinIn: next.rejoinIn, score },
      at,
    );
    // failover: a node that is unhealthy or offline holds nothing any more
    const lost: LeaseRow[] = [];
    if (!isRoutable(next.health)) {
      for (const lease of await this.leases.activeOnNode(em, node.id)) {
        const ended = await this.endings.end(
          em,
          lease.id,
          'lost',
          at,
          `node ${node.name} is ${next.health}`,
        );
        if (ended) lost.push(ended);
      }
    }
    return { node: updated, left: isRoutable(node.state) && !isRoutable(next.state), lost };
  }

  /** Starts a new window of caller reports once the last one is over. */
  private async callerWindow(em: EntityManager, node: NodeRow, at: Date): Promise<NodeRow> {
    if (at.getTime() - node.callerWindowStartedAt.getTime() < this.settings.callerWindowMs)
      return node;
    await this.nodes.resetCallerWindow(em, node.id, at);
    return { ...node, callerCalls: 0, callerFailures: 0, callerWindowStartedAt: at };
  }

  private after(outcome: HealthOutcome): void {
    if (outcome.left)
      this.logger.warn(
        {
          node: outcome.node.name,
          state: outcome.node.state,
          score: outcome.node.score,
          lost: outcome.lost.length,
        },
        'GPU node left routing and placement',
      );
    this.endings.announce(outcome.lost);
  }
}
