import type { DrainWorkersRequest, WorkerDrainStates } from '@lattice/contracts';
import { createLogger } from '@lattice/logging';
import { DomainError, ErrorCode } from '@lattice/contracts';
import type { KubeGateway, TargetPod } from '../kube/kube.gateway';
import type { DrainStatus, ScalingPolicy, ScalingPolicySpec } from '../policy/scaling-policy.types';
import type { Decision } from '../scaling/autoscaler';
import {
  COST_BEFORE,
  DELETION_COST,
  DRAINED_COST,
  DRAINED_FOR,
  DRAIN_LAPSE_MS,
  ScaleInDrainer,
} from './scale-in-drainer';
import type { SchedulerDrains } from './scheduler-drains';

/** The pods of a Deployment, as the API server keeps them. */
class PodsStandIn {
  constructor(readonly pods: TargetPod[]) {}
  readonly gateway = {
    targetPods: async () => structuredClone(this.pods),
    pod: async (_ns: string, name: string) =>
      structuredClone(this.pods.find((p) => p.name === name)),
    annotatePod: async (_ns: string, name: string, annotations: Record<string, string | null>) => {
      const pod = this.pods.find((p) => p.name === name);
      if (!pod) throw Object.assign(new Error('gone'), { code: 404 });
      for (const [key, value] of Object.entries(annotations)) {
        if (value === null) delete pod.annotations[key];
        else pod.annotations[key] = value;
      }
    },
  } as unknown as KubeGateway;
  annotations(name: string): Record<string, string> {
    return this.pods.find((p) => p.name === name)!.annotations;
  }
}

/** The scheduler's side: what each worker holds, and which are drained. */
class SchedulerStandIn {
  readonly held = new Map<string, number>();
  readonly draining = new Set<string>();
  answers = true;
  readonly drains: DrainWorkersRequest[] = [];
  private readonly states = (ids: string[]): WorkerDrainStates => ({
    workers: ids.map((workerId) => ({
      workerId,
      registered: true,
      draining: this.draining.has(workerId),
      heldJobs: this.held.get(workerId) ?? 0,
      drainStartedAt: null,
      drainExpiresAt: null,
      lastSeenAt: null,
    })),
  });
  private reachable(): void {
    if (!this.answers) throw new DomainError(ErrorCode.Unavailable, 'no scheduler answers');
  }
  readonly client = {
    drain: async (request: DrainWorkersRequest) => {
      this.reachable();
      this.drains.push(request);
      const picked = [...(request.pick?.from ?? [])]
        .sort((a, b) => (this.held.get(a) ?? 0) - (this.held.get(b) ?? 0))
        .slice(0, request.pick?.count ?? 0);
      const ids = [...request.drain, ...picked];
      for (const id of ids) this.draining.add(id);
      return this.states(ids);
    },
    state: async (ids: string[]) => {
      this.reachable();
      return this.states(ids);
    },
    undrain: async (ids: string[]) => {
      this.reachable();
      for (const id of ids) this.draining.delete(id);
      return this.states(ids);
    },
  } as unknown as SchedulerDrains;
}

const pod = (name: string, annotations: Record<string, string> = {}): TargetPod => ({
  name,
  assigned: true,
  phase: 'Running',
  ready: true,
  deleting: false,
  annotations,
});

function policyWith(over: Partial<ScalingPolicySpec> = {}, drain?: DrainStatus): ScalingPolicy {
  return {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'ScalingPolicy',
    metadata: { name: 'pool', namespace: 'ml' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'pool' },
      maxReplicas: 10,
      metrics: [
        {
          name: 'jobs',
          type: 'queue',
          queue: { source: 'Scheduler', name: 'embeddings', targetPerReplica: 2 },
        },
      ],
      behavior: { scaleDown: { drainTimeoutSeconds: 60 } },
      ...over,
    },
    status: drain ? { drain } : undefined,
  };
}

const decision = (desiredReplicas: number, current = 4): Decision => ({
  desiredReplicas,
  rescale: desiredReplicas !== current,
  reason: 'test',
  metrics: [],
  gates: [],
  conditions: [],
  failures: 0,
  fallbackActive: false,
});

describe(ScaleInDrainer.name, () => {
  const t0 = new Date('2026-03-01T12:00:00Z');
  const later = (ms: number) => new Date(t0.getTime() + ms);
  const scale = { replicas: 4, statusReplicas: 4, selector: 'app=pool' };
  let kube: PodsStandIn;
  let scheduler: SchedulerStandIn;
  let drainer: ScaleInDrainer;

  beforeEach(() => {
    kube = new PodsStandIn([
      pod('w-a'),
      pod('w-b', { [DELETION_COST]: '5' }),
      pod('w-c'),
      pod('w-d'),
    ]);
    scheduler = new SchedulerStandIn();
    scheduler.held.set('w-a', 3).set('w-b', 1).set('w-c', 0).set('w-d', 2);
    drainer = new ScaleInDrainer(kube.gateway, scheduler.client, createLogger('test', 'silent'));
  });

  const start = () => drainer.step({ policy: policyWith(), scale, decision: decision(2), now: t0 });

  it('drains the workers the scheduler picks, marks their pods and holds the size', async () => {
    const step = await start();
    expect(step.scale).toBe(false);
    expect(step.drain).toMatchObject({
      queue: 'embeddings',
      fromReplicas: 4,
      toReplicas: 2,
      startedAt: t0.toISOString(),
      deadline: later(60_000).toISOString(),
      workers: [
        { pod: 'w-c', heldJobs: 0 },
        { pod: 'w-b', heldJobs: 1 },
      ],
    });
    expect(scheduler.drains[0]).toMatchObject({
      queue: 'embeddings',
      drain: [],
      pick: { from: ['w-a', 'w-b', 'w-c', 'w-d'], count: 2 },
      expiresAt: later(60_000 + DRAIN_LAPSE_MS).toISOString(),
    });
    expect(kube.annotations('w-b')).toEqual({
      [DELETION_COST]: DRAINED_COST,
      [DRAINED_FOR]: 'ml/pool',
      [COST_BEFORE]: '5',
    });
    expect(kube.annotations('w-c')[DELETION_COST]).toBe(DRAINED_COST);
    expect(kube.annotations('w-a')).toEqual({});
    expect(step.events.map((e) => e.reason)).toEqual(['DrainStarted']);
    expect(step.events[0].message).toContain('w-c (0 jobs), w-b (1 job)');
    expect(step.condition).toMatchObject({
      type: 'Draining',
      status: 'True',
      reason: 'WaitingForDrain',
    });
  });

  it('applies the size once the drained workers hold nothing', async () => {
    const pending = (await start()).drain!;
    scheduler.held.set('w-b', 0);
    const step = await drainer.step({
      policy: policyWith(),
      scale,
      decision: decision(2),
      pending,
      now: later(5_000),
    });
    expect(step).toMatchObject({ scale: true, drain: null });
    expect(step.events).toEqual([
      expect.objectContaining({ reason: 'DrainCompleted', type: 'Normal' }),
    ]);
    expect(step.events[0].message).toBe('w-c, w-b hold no jobs after 5 s; scaling from 4 to 2');
  });

  it('applies the size at the drain timeout whatever the workers still hold, with a Warning', async () => {
    const pending = (await start()).drain!;
    const waiting = await drainer.step({
      policy: policyWith(),
      scale,
      decision: decision(2),
      pending,
      now: later(59_000),
    });
    expect(waiting.scale).toBe(false);
    const step = await drainer.step({
      policy: policyWith(),
      scale,
      decision: decision(2),
      pending: waiting.drain!,
      now: later(60_000),
    });
    expect(step).toMatchObject({ scale: true, drain: null });
    expect(step.events[0]).toMatchObject({ type: 'Warning', reason: 'DrainTimedOut' });
    expect(step.events[0].message).toContain(
      'drain timeout of 60 s passed with w-b (1 job) still held',
    );
  });

  it('keeps waiting while the scheduler cannot be asked, and never scales early for it', async () => {
    const pending = (await start()).drain!;
    scheduler.answers = false;
    const waiting = await drainer.step({
      policy: policyWith(),
      scale,
      decision: decision(2),
      pending,
      now: later(10_000),
    });
    expect(waiting).toMatchObject({ scale: false, drain: pending });
    const late = await drainer.step({
      policy: policyWith(),
      scale,
      decision: decision(2),
      pending,
      now: later(61_000),
    });
    expect(late.scale).toBe(true);
    expect(late.events[0].reason).toBe('DrainTimedOut');
  });

  it('abandons the drain when the size decided changes: workers lease again, pods get their own cost back', async () => {
    const pending = (await start()).drain!;
    const step = await drainer.step({
      policy: policyWith(),
      scale,
      decision: decision(4),
      pending,
      now: later(3_000),
    });
    expect(step).toMatchObject({ scale: false, drain: null });
    expect(step.events.map((e) => e.reason)).toEqual(['DrainAbandoned']);
    expect(step.condition).toMatchObject({ status: 'False', reason: 'DrainAbandoned' });
    expect(scheduler.draining.size).toBe(0);
    expect(kube.annotations('w-b')).toEqual({ [DELETION_COST]: '5' });
    expect(kube.annotations('w-c')).toEqual({});
  });

  it('starts over when a drain lapsed while no operator watched it', async () => {
    const pending = (await start()).drain!;
    const step = await drainer.step({
      policy: policyWith(),
      scale,
      decision: decision(2),
      pending,
      now: later(60_000 + DRAIN_LAPSE_MS),
    });
    expect(step.events.map((e) => e.reason)).toEqual(['DrainAbandoned', 'DrainStarted']);
    expect(step.drain?.startedAt).toBe(later(60_000 + DRAIN_LAPSE_MS).toISOString());
  });

  it('releases pods an earlier, unfinished drain of the policy left marked', async () => {
    kube.pods[0].annotations = { [DELETION_COST]: DRAINED_COST, [DRAINED_FOR]: 'ml/pool' };
    scheduler.draining.add('w-a');
    await start();
    expect(kube.annotations('w-a')).toEqual({});
    expect([...scheduler.draining].sort()).toEqual(['w-b', 'w-c']);
  });

  it('scales at once where drain-first does not apply', async () => {
    const cases: ScalingPolicy[] = [
      policyWith({ behavior: { scaleDown: { drainTimeoutSeconds: 0 } } }),
      policyWith({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'pool' } }),
      policyWith({
        metrics: [
          {
            name: 'jobs',
            type: 'queue',
            queue: { stream: 'JOBS', consumer: 'w', targetPerReplica: 2 },
          },
        ],
      }),
    ];
    for (const policy of cases) {
      const step = await drainer.step({ policy, scale, decision: decision(2), now: t0 });
      expect(step).toEqual({ scale: true, drain: null, condition: undefined, events: [] });
    }
    expect(scheduler.drains).toEqual([]);
    const up = await drainer.step({ policy: policyWith(), scale, decision: decision(6), now: t0 });
    expect(up.scale).toBe(true);
  });
});
