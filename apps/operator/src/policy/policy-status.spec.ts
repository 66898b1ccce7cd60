import { decide, type MetricInput } from '../scaling/autoscaler';
import { emptyHistory } from '../scaling/behavior';
import { scalingPolicyOf, statusAfter, statusAfterPatch, statusChanges } from './policy-status';
import type { ScalingPolicy } from './scaling-policy.types';

const policy = (status?: ScalingPolicy['status']): ScalingPolicy => ({
  apiVersion: 'lattice.dev/v1alpha1',
  kind: 'ScalingPolicy',
  metadata: { name: 'worker', namespace: 'ml', generation: 4 },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'worker' },
    maxReplicas: 10,
    metrics: [
      {
        name: 'jobs',
        type: 'queue',
        queue: { stream: 'JOBS', consumer: 'w', targetPerReplica: 10 },
      },
    ],
  },
  status,
});

const jobs = (backlog: number): MetricInput => ({
  name: 'jobs',
  type: 'queue',
  observation: { type: 'queue', backlog, targetPerReplica: 10, activationThreshold: 0 },
});

describe(statusAfter.name, () => {
  const at = new Date('2025-01-01T00:00:00Z');
  const later = new Date('2025-01-01T00:05:00Z');

  it('applies the CRD defaults the algorithm needs', () => {
    const p = scalingPolicyOf(policy());
    expect(p).toMatchObject({ minReplicas: 1, maxReplicas: 10, paused: false });
    expect(p.behavior.scaleDown.stabilizationWindowSeconds).toBe(300);
  });

  it('reports metrics, the generation acted on, and when it last scaled', () => {
    const d = decide({
      policy: scalingPolicyOf(policy()),
      currentReplicas: 2,
      metrics: [jobs(45)],
      history: emptyHistory(),
      failures: 0,
      now: at.getTime(),
    });
    const status = statusAfter(policy(), d, 5, 5, true, at);
    expect(status).toMatchObject({
      observedGeneration: 4,
      currentReplicas: 5,
      desiredReplicas: 5,
      lastScaleTime: at.toISOString(),
      failedPolls: 0,
      metricsSummary: 'jobs: 45/10',
      currentMetrics: [
        {
          name: 'jobs',
          type: 'queue',
          value: 45,
          target: 10,
          proposal: 5,
          gateOpen: true,
          active: true,
        },
      ],
    });
  });

  it('keeps a condition transition time until its status changes', () => {
    const healthy = decide({
      policy: scalingPolicyOf(policy()),
      currentReplicas: 2,
      metrics: [jobs(20)],
      history: emptyHistory(),
      failures: 0,
      now: at.getTime(),
    });
    const first = statusAfter(policy(), healthy, 2, 2, false, at);
    const again = statusAfter(policy(first), healthy, 2, 2, false, later);
    expect(again.conditions?.find((c) => c.type === 'ScalingActive')?.lastTransitionTime).toBe(
      at.toISOString(),
    );
    expect(again.lastScaleTime).toBeUndefined();

    const broken = decide({
      policy: scalingPolicyOf(policy()),
      currentReplicas: 2,
      metrics: [{ name: 'jobs', type: 'queue', error: 'consumer not found' }],
      history: emptyHistory(),
      failures: 0,
      now: later.getTime(),
    });
    const failed = statusAfter(policy(again), broken, 2, 2, false, later);
    expect(failed.conditions?.find((c) => c.type === 'ScalingActive')).toMatchObject({
      status: 'False',
      reason: 'FailedGetQueueMetric',
      lastTransitionTime: later.toISOString(),
    });
    expect(failed.metricsSummary).toBe('jobs: <unknown>/-');
  });
});

describe(statusChanges.name, () => {
  const at = new Date('2025-01-01T00:00:00Z');
  const decided = (backlog: number, now: Date) =>
    decide({
      policy: scalingPolicyOf(policy()),
      currentReplicas: 2,
      metrics: [jobs(backlog)],
      history: emptyHistory(),
      failures: 0,
      now: now.getTime(),
    });

  it('sees nothing to write when a later reconcile decides the same, whatever the time', () => {
    const first = statusAfter(policy(), decided(20, at), 2, 2, false, at);
    const stored = statusAfterPatch(undefined, { ...first, drain: null });
    const later = new Date(at.getTime() + 60_000);
    const again = statusAfter(policy(stored), decided(20, later), 2, 2, false, later);
    expect(statusChanges(stored, { ...again, drain: null })).toBe(false);
  });

  it('sees a change of a metric value, a replica count or a condition', () => {
    const stored = statusAfterPatch(
      undefined,
      statusAfter(policy(), decided(20, at), 2, 2, false, at),
    );
    const more = statusAfter(policy(stored), decided(25, at), 2, 2, false, at);
    expect(statusChanges(stored, more)).toBe(true);
    expect(statusChanges(stored, { ...stored, currentReplicas: 3 })).toBe(true);
    const failed = { ...stored, conditions: [...(stored.conditions ?? [])].slice(1) };
    expect(statusChanges(stored, failed)).toBe(true);
  });

  it('applies a patch as the API server merges it: null removes, an absent field stays', () => {
    const drain = {
      queue: 'inference',
      fromReplicas: 3,
      toReplicas: 2,
      startedAt: at.toISOString(),
      deadline: at.toISOString(),
      workers: [{ pod: 'w-1', heldJobs: 1 }],
    };
    const stored = { currentReplicas: 3, drain };
    expect(statusChanges(stored, { currentReplicas: 3 })).toBe(false);
    expect(statusChanges(stored, { currentReplicas: 3, drain: null })).toBe(true);
    expect(statusAfterPatch(stored, { drain: null })).toEqual({ currentReplicas: 3 });
    expect(statusChanges({ currentReplicas: 3 }, { currentReplicas: 3, drain: null })).toBe(false);
    expect(statusChanges(undefined, { desiredReplicas: 1 })).toBe(true);
  });
});
