import fc from 'fast-check';
import { emptyHistory, recordScaleEvent, resolveBehavior, type ScalingHistory } from './behavior';
import { decide, type Decision, type MetricInput, type PolicyForScaling } from './autoscaler';

const T0 = Date.parse('2025-01-01T00:00:00Z');

const queue = (
  name: string,
  backlog: number,
  targetPerReplica = 10,
  activationThreshold = 0,
): MetricInput => ({
  name,
  type: 'queue',
  observation: { type: 'queue', backlog, targetPerReplica, activationThreshold },
});
const vram = (
  name: string,
  usedPercents: number[],
  target?: number,
  aggregation: 'Average' | 'Max' = 'Average',
  pods = { total: 2, ready: 2 },
): MetricInput => ({
  name,
  type: 'gpuMemory',
  observation: {
    type: 'gpuMemory',
    measure: 'UsedPercent',
    aggregation,
    target,
    gpus: usedPercents.map((p) => ({ usedMiB: p * 320, freeMiB: (100 - p) * 320 })),
    pods,
  },
});

function policy(over: Partial<PolicyForScaling> = {}): PolicyForScaling {
  return {
    minReplicas: 1,
    maxReplicas: 20,
    behavior: resolveBehavior({ scaleDown: { stabilizationWindowSeconds: 0 } }),
    ...over,
  };
}

function run(
  p: PolicyForScaling,
  current: number,
  metrics: MetricInput[],
  history = emptyHistory(),
  failures = 0,
  now = T0,
) {
  return decide({ policy: p, currentReplicas: current, metrics, history, failures, now });
}

function expectCondition(d: Decision, condition: Partial<Decision['conditions'][number]>) {
  expect(d.conditions).toContainEqual(expect.objectContaining(condition));
}

describe(decide.name, () => {
  it('doubles for a metric at twice its target and halves at half (documented example)', () => {
    // "if the current metric value is 200m and the desired value is 100m, the number of
    // replicas will be doubled"; at 50m it is halved
    const level = (value: number): MetricInput => ({
      name: 'gpu',
      type: 'gpuMemory',
      observation: {
        type: 'gpuMemory',
        measure: 'UsedMiB',
        aggregation: 'Average',
        gpus: [{ usedMiB: value, freeMiB: 1000 }],
        target: 100,
        pods: { total: 4, ready: 4 },
      },
    });
    expect(run(policy(), 4, [level(200)]).desiredReplicas).toBe(8);
    expect(run(policy(), 4, [level(50)]).desiredReplicas).toBe(2);
    // 1.05 is inside the 10 % tolerance: no change
    expect(run(policy(), 4, [level(105)]).desiredReplicas).toBe(4);
  });

  it('takes the largest proposal across metrics', () => {
    const d = run(policy(), 2, [queue('jobs', 50), vram('vram', [90, 90], 60)]);
    // queue: ceil(50 / 10) = 5; vram: ceil(2 × 90 / 60) = 3
    expect(d.desiredReplicas).toBe(5);
    expect(d.metrics.map((m) => m.proposal)).toEqual([5, 3]);
    expectCondition(d, {
      type: 'ScalingActive',
      status: 'True',
      reason: 'ValidMetricFound',
    });
  });

  it('judges a queue backlog per pod that runs (status.replicas), as HPA does', () => {
    // asked for 2, still running 4: 42 over 4 pods is inside the tolerance of 10 each, so 4
    // (over the 2 asked for it would be 5)
    const d = decide({
      policy: policy(),
      currentReplicas: 2,
      statusReplicas: 4,
      metrics: [queue('jobs', 42)],
      history: emptyHistory(),
      failures: 0,
      now: T0,
    });
    expect(d.metrics[0].proposal).toBe(4);
    expect(d.desiredReplicas).toBe(4);
  });

  it('scales a GPU level by the ready pods, and fails it when the target has no pods', () => {
    const level = (pods: { total: number; ready: number }): MetricInput => ({
      name: 'gpu',
      type: 'gpuMemory',
      observation: {
        type: 'gpuMemory',
        measure: 'UsedMiB',
        aggregation: 'Average',
        gpus: [{ usedMiB: 8600, freeMiB: 24000 }],
        target: 4400,
        pods,
      },
    });
    // HPA's ScaleUpCMExternalIgnoresUnreadyPods: 3 asked for, 1 ready: ceil(1 × 8600 / 4400)
    expect(run(policy(), 3, [level({ total: 3, ready: 1 })]).metrics[0].proposal).toBe(2);
    const none = run(policy(), 3, [level({ total: 0, ready: 0 })]);
    expect(none.metrics[0].error).toBe(
      'no pods returned by selector while calculating replica count',
    );
    expectCondition(none, { type: 'ScalingActive', reason: 'FailedGetGpuMemoryMetric' });
  });

  it('scales on the queue only while VRAM use is above 80 %', () => {
    const gated: MetricInput = {
      ...queue('jobs', 80),
      activeWhen: [{ metric: 'vram', above: 80 }],
    };
    const cool = run(policy(), 2, [gated, vram('vram', [50, 60])]);
    expect(cool.desiredReplicas).toBe(2);
    expect(cool.metrics[0]).toMatchObject({ gateOpen: false, proposal: 8 });
    expect(cool.gates).toEqual([
      { gates: 'jobs', metric: 'vram', condition: 'above 80', holds: false, value: 55 },
    ]);
    const hot = run(policy(), 2, [gated, vram('vram', [85, 95])]);
    expect(hot.desiredReplicas).toBe(6); // 4 pods per 15 s from 2
    expect(hot.gates[0].holds).toBe(true);
  });

  it('holds scale-in while any GPU is above 90 %', () => {
    const p = policy({ holdScaleDownWhen: [{ metric: 'hottest', above: 90 }] });
    const held = run(p, 6, [queue('jobs', 10), vram('hottest', [40, 95], undefined, 'Max')]);
    expect(held.desiredReplicas).toBe(6);
    expectCondition(held, { type: 'AbleToScale', reason: 'ScaleDownHeld' });
    const free = run(p, 6, [queue('jobs', 10), vram('hottest', [40, 85], undefined, 'Max')]);
    expect(free.desiredReplicas).toBe(1);
  });

  it('wakes from zero above the activation threshold and sleeps at or below it', () => {
    const p = policy({ minReplicas: 0 });
    expect(run(p, 0, [queue('jobs', 3, 10, 5)]).desiredReplicas).toBe(0);
    const woken = run(p, 0, [queue('jobs', 6, 10, 5)]);
    expect(woken.desiredReplicas).toBe(1);
    expect(woken.rescale).toBe(true);
    expect(run(p, 0, [queue('jobs', 200, 10)]).desiredReplicas).toBe(4); // Pods policy: 0 + 4
    expect(run(p, 3, [queue('jobs', 0, 10)]).desiredReplicas).toBe(0);
  });

  it('does not scale a target scaled to zero by hand when minReplicas is above zero', () => {
    const d = run(policy({ minReplicas: 1 }), 0, [queue('jobs', 500)]);
    expect(d).toMatchObject({ desiredReplicas: 0, rescale: false });
    expectCondition(d, { reason: 'ScalingDisabled' });
  });

  it('brings a target outside min/max back inside without reading metrics', () => {
    expect(run(policy({ maxReplicas: 5 }), 9, [queue('jobs', 500)]).desiredReplicas).toBe(5);
    expect(run(policy({ minReplicas: 3 }), 1, [queue('jobs', 0)]).desiredReplicas).toBe(3);
  });

  it('scales up on the metrics it has when another fails, but never down', () => {
    const broken: MetricInput = { name: 'vram', type: 'gpuMemory', error: 'no responders' };
    expect(run(policy(), 2, [queue('jobs', 60), broken]).desiredReplicas).toBe(6);
    const down = run(policy(), 5, [queue('jobs', 10), broken]);
    expect(down).toMatchObject({ desiredReplicas: 5, failures: 1 });
    expectCondition(down, {
      type: 'ScalingActive',
      status: 'False',
      reason: 'FailedGetGpuMemoryMetric',
    });
  });

  it('holds the fallback size after the configured number of failed polls', () => {
    const p = policy({ fallback: { failureThreshold: 3, replicas: 7 } });
    const broken: MetricInput = { name: 'jobs', type: 'queue', error: 'consumer not found' };
    expect(run(p, 2, [broken], emptyHistory(), 1)).toMatchObject({
      desiredReplicas: 2,
      failures: 2,
      fallbackActive: false,
    });
    const fallback = run(p, 2, [broken], emptyHistory(), 2);
    expect(fallback).toMatchObject({
      desiredReplicas: 7,
      failures: 3,
      fallbackActive: true,
      rescale: true,
    });
    expectCondition(fallback, { reason: 'FallbackActive' });
    expect(run(p, 7, [queue('jobs', 30)], emptyHistory(), 3)).toMatchObject({
      failures: 0,
      desiredReplicas: 3,
    });
  });

  it('changes nothing while paused', () => {
    const d = run(policy({ paused: true }), 2, [queue('jobs', 500)]);
    expect(d).toMatchObject({ desiredReplicas: 2, rescale: false });
    expectCondition(d, { reason: 'ScalingPaused' });
  });

  it('a fresh history waits a full scale-down window before shrinking', () => {
    const p = policy({ behavior: resolveBehavior() });
    const history = emptyHistory();
    expect(run(p, 8, [queue('jobs', 0)], history, 0, T0).desiredReplicas).toBe(8);
    expect(run(p, 8, [queue('jobs', 0)], history, 0, T0 + 301_000).desiredReplicas).toBe(1);
  });
});

/** Drives a policy through a metric series, applying each decision as the controller would. */
function simulate(p: PolicyForScaling, start: number, backlogs: number[], stepMs: number) {
  const history: ScalingHistory = emptyHistory();
  let current = start;
  const sizes: number[] = [];
  backlogs.forEach((backlog, i) => {
    const now = T0 + i * stepMs;
    const d = decide({
      policy: p,
      currentReplicas: current,
      metrics: [queue('q', backlog, 10)],
      history,
      failures: 0,
      now,
    });
    if (d.rescale) {
      recordScaleEvent(history, p.behavior, current, d.desiredReplicas, now);
      current = d.desiredReplicas;
    }
    sizes.push(current);
  });
  return { sizes, history };
}

const rulesArb = (maxPercent: number) =>
  fc.record({
    stabilizationWindowSeconds: fc.integer({ min: 0, max: 120 }),
    selectPolicy: fc.constantFrom('Max' as const, 'Min' as const),
    policies: fc.array(
      fc.record({
        type: fc.constantFrom('Pods' as const, 'Percent' as const),
        value: fc.integer({ min: 1, max: maxPercent }),
        periodSeconds: fc.integer({ min: 1, max: 120 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  });
const behaviorArb = fc.record({ scaleUp: rulesArb(200), scaleDown: rulesArb(100) });

describe('properties', () => {
  const bounds = fc
    .tuple(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 40 }))
    .map(([min, extra]) => ({ min, max: Math.max(min, 1) + extra }));

  it('never leaves [min, max] once inside', () => {
    fc.assert(
      fc.property(
        bounds,
        behaviorArb,
        fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 60 }),
        ({ min, max }, b, backlogs) => {
          const p = policy({ minReplicas: min, maxReplicas: max, behavior: resolveBehavior(b) });
          const { sizes } = simulate(p, Math.max(min, 1), backlogs, 5_000);
          for (const size of sizes) {
            expect(size).toBeGreaterThanOrEqual(min);
            expect(size).toBeLessThanOrEqual(max);
          }
        },
      ),
      { seed: 20250101, numRuns: 300 },
    );
  });

  it('never changes more in a period than the policies allow', () => {
    fc.assert(
      fc.property(
        behaviorArb,
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 2, maxLength: 60 }),
        (b, backlogs) => {
          const behavior = resolveBehavior(b);
          const p = policy({ minReplicas: 1, maxReplicas: 1000, behavior });
          const stepMs = 5_000;
          const { sizes } = simulate(p, 4, backlogs, stepMs);
          // the size after any step is within what some policy allows from the size at the
          // start of that policy's period (selectPolicy Max may take the loosest policy)
          const before = [4, ...sizes]; // before[k]: the size before step k
          const periodStart = (i: number, periodSeconds: number) =>
            before[Math.max(0, i + 1 - Math.ceil((periodSeconds * 1000) / stepMs))];
          for (let i = 0; i < sizes.length; i++) {
            const allowedUp = Math.max(
              ...behavior.scaleUp.policies.map((pol) => {
                const start = periodStart(i, pol.periodSeconds);
                return pol.type === 'Pods'
                  ? start + pol.value
                  : Math.ceil(start * (1 + pol.value / 100));
              }),
            );
            const allowedDown = Math.min(
              ...behavior.scaleDown.policies.map((pol) => {
                const start = periodStart(i, pol.periodSeconds);
                return pol.type === 'Pods'
                  ? start - pol.value
                  : Math.trunc(start * (1 - pol.value / 100));
              }),
            );
            if (sizes[i] > before[i]) expect(sizes[i]).toBeLessThanOrEqual(allowedUp);
            if (sizes[i] < before[i]) expect(sizes[i]).toBeGreaterThanOrEqual(allowedDown);
          }
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });

  it('does not flap under a metric oscillating inside the tolerance', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.double({ min: -0.099, max: 0.099, noNaN: true }), {
          minLength: 5,
          maxLength: 80,
        }),
        (replicas, wobble) => {
          const p = policy({ minReplicas: 1, maxReplicas: 100, behavior: resolveBehavior() });
          const backlogs = wobble.map((w) => Math.round(replicas * 10 * (1 + w)));
          // keep each sample strictly inside the 10 % band after rounding
          fc.pre(backlogs.every((b) => Math.abs(b / (replicas * 10) - 1) <= 0.1));
          const { sizes } = simulate(p, replicas, backlogs, 15_000);
          expect(new Set(sizes)).toEqual(new Set([replicas]));
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});
