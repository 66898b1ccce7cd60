import { decide, type MetricInput } from '../scaling/autoscaler';
import { emptyHistory } from '../scaling/behavior';
import { scalingPolicyOf, statusAfter } from './policy-status';
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
