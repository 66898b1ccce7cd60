import {
  MetricError,
  cpuReplicas,
  groupPods,
  levelReplicas,
  perReplicaReplicas,
  type PodSample,
  type PodUsage,
} from './replica-calculator';

// The cases of the Kubernetes replica calculator's own tests, with its testing timings
// (2 min CPU initialisation, 10 s initial readiness delay) and tolerance 0.1.
const NOW = Date.parse('2025-01-01T12:00:00Z');
const timings = { cpuInitializationPeriodMs: 120_000, delayOfInitialReadinessStatusMs: 10_000 };
const tolerances = { scaleUp: 0.1, scaleDown: 0.1 };
const COOL = NOW - 10 * 60_000; // started long ago
const HOT = NOW - 60_000; // still inside the CPU initialisation period

interface PodSpec {
  ready?: boolean;
  phase?: PodSample['phase'];
  deleting?: boolean;
  start?: number;
  requestMilli?: number;
}

/** Pods as the Kubernetes test builds them: ready since start, metrics fresh for a minute. */
function scenario(
  pods: PodSpec[],
  levels: number[],
): { pods: PodSample[]; usage: Map<string, PodUsage> } {
  const samples = pods.map((p, i): PodSample => {
    const start = p.start ?? COOL;
    return {
      name: `pod-${i}`,
      phase: p.phase ?? 'Running',
      deleting: p.deleting,
      requestMilli: 'requestMilli' in p ? p.requestMilli : 1000,
      startTime: start,
      ready: { status: p.ready === false ? 'False' : 'True', lastTransitionTime: start },
    };
  });
  const usage = new Map<string, PodUsage>();
  levels.forEach((value, i) => {
    const start = samples[i]?.startTime ?? COOL;
    // a hot pod's sample covers its start-up; a cool pod's is a full window after readiness
    const timestamp = start === HOT ? start + 10_000 : NOW;
    usage.set(`pod-${i}`, { valueMilli: value, timestamp, windowMs: 60_000 });
  });
  return { pods: samples, usage };
}

function cpu(current: number, target: number, pods: PodSpec[], levels: number[]) {
  return cpuReplicas({
    currentReplicas: current,
    targetUtilization: target,
    ...scenario(pods, levels),
    tolerances,
    timings,
    now: NOW,
  });
}

const running = (n: number): PodSpec[] => Array.from({ length: n }, () => ({}));

describe('cpuReplicas (HPA replica calculator cases)', () => {
  it.each([
    // name, current, target, pods, levels, expected replicas, expected utilisation
    ['ScaleUp', 3, 30, running(3), [300, 500, 700], 5, 50],
    ['ScaleUpUnreadyLessScale', 3, 30, [{ ready: false }, {}, {}], [300, 500, 700], 4, 60],
    ['ScaleUpHotCpuLessScale', 3, 30, [{ start: HOT }, {}, {}], [300, 500, 700], 4, 60],
    [
      'ScaleUpUnreadyNoScale',
      3,
      30,
      [{}, { ready: false }, { ready: false }],
      [400, 500, 700],
      3,
      40,
    ],
    [
      'ScaleHotCpuNoScale',
      3,
      30,
      [{}, { ready: false, start: HOT }, { ready: false, start: HOT }],
      [400, 500, 700],
      3,
      40,
    ],
    [
      'ScaleUpIgnoresFailedPods',
      2,
      30,
      [{}, {}, { phase: 'Failed', ready: false }, { phase: 'Failed', ready: false }],
      [500, 700],
      4,
      60,
    ],
    [
      'ScaleUpIgnoresDeletionPods',
      2,
      30,
      [{}, {}, { deleting: true, ready: false }, { deleting: true, ready: false }],
      [500, 700],
      4,
      60,
    ],
    ['ScaleDown', 5, 50, running(5), [100, 300, 500, 250, 250], 3, 28],
    [
      'ScaleDownIncludeUnreadyPods',
      5,
      50,
      [{}, {}, {}, { ready: false }, { ready: false }],
      [100, 300, 500, 250, 250],
      2,
      30,
    ],
    [
      'ScaleDownExcludeUnscheduledPods',
      5,
      50,
      [{}, ...Array.from({ length: 4 }, () => ({ phase: 'Pending' as const, ready: false }))],
      [100],
      1,
      10,
    ],
    [
      'ScaleDownIgnoreHotCpuPods',
      5,
      50,
      [{}, {}, {}, { start: HOT }, { start: HOT }],
      [100, 300, 500, 250, 250],
      2,
      30,
    ],
    [
      'ScaleDownIgnoresFailedPods',
      5,
      50,
      [...running(5), { phase: 'Failed', ready: false }, { phase: 'Failed', ready: false }],
      [100, 300, 500, 250, 250],
      3,
      28,
    ],
    [
      'ScaleDownIgnoresDeletionPods',
      5,
      50,
      [...running(5), { deleting: true, ready: false }, { deleting: true, ready: false }],
      [100, 300, 500, 250, 250],
      3,
      28,
    ],
    [
      'Tolerance',
      3,
      100,
      [{ requestMilli: 900 }, { requestMilli: 1000 }, { requestMilli: 1100 }],
      [1010, 1030, 1020],
      3,
      102,
    ],
    ['SuperfluousMetrics', 4, 100, running(4), [4000, 9500, 3000, 7000, 3200, 2000], 24, 587],
    ['MissingMetrics', 4, 100, running(4), [400, 95], 3, 24],
    ['MissingMetricsNoChangeEq', 2, 100, running(2), [1000], 2, 100],
    ['MissingMetricsNoChangeGt', 2, 100, running(2), [1900], 2, 190],
    ['MissingMetricsNoChangeLt', 2, 100, running(2), [600], 2, 60],
    ['MissingMetricsUnreadyChange', 3, 50, [{ ready: false }, {}, {}], [100, 450], 3, 45],
    ['MissingMetricsHotCpuNoChange', 3, 50, [{ start: HOT }, {}, {}], [100, 450], 3, 45],
    ['MissingMetricsUnreadyScaleUp', 3, 50, [{ ready: false }, {}, {}], [100, 2000], 4, 200],
    [
      'MissingMetricsHotCpuScaleUp',
      3,
      50,
      [{ ready: false, start: HOT }, {}, {}],
      [100, 2000],
      4,
      200,
    ],
    [
      'MissingMetricsUnreadyScaleDown',
      4,
      50,
      [{ ready: false }, {}, {}, {}],
      [100, 100, 100],
      3,
      10,
    ],
    [
      // a missing pod counts at the 300 % target, not at 100 % of its request (which gives 1)
      'MissingMetricsScaleDownTargetOver100',
      4,
      300,
      [{ ready: false }, {}, { requestMilli: 2000 }, { requestMilli: 2000 }],
      [200, 100, 100],
      2,
      6,
    ],
    ['DuringRollingUpdateWithMaxSurge', 2, 50, running(3), [100, 100], 2, 10],
  ] as const)('%s', (_name, current, target, pods, levels, replicas, utilization) => {
    const result = cpu(current, target, [...pods], [...levels]);
    expect(result.replicas).toBe(replicas);
    expect(result.utilization).toBe(utilization);
  });

  it('reproduces the computed-tolerance regression case on both sides of the boundary', () => {
    // 10 pods using 150m each against requests averaging 300m: 50 % utilisation
    const requests = [400, 200, 310, 290, 302, 298, 301, 299, 300, 300];
    const pods = requests.map((requestMilli) => ({ requestMilli }));
    const levels = requests.map(() => 150);
    // target 56 %: ratio 0.89 is outside the tolerance, so 9 replicas
    expect(cpu(10, 56, pods, levels).replicas).toBe(9);
    // target 55 %: ratio 0.909 is inside it, so no change
    expect(cpu(10, 55, pods, levels).replicas).toBe(10);
  });

  it('fails when no metrics came back, a request is missing, or metrics match no pod', () => {
    expect(() => cpu(4, 100, running(3), [])).toThrow(
      'no metrics returned from resource metrics API',
    );
    expect(() => cpu(1, 100, [{ requestMilli: undefined }], [200])).toThrow(MetricError);
    expect(() => cpu(1, 100, [{ requestMilli: undefined }], [200])).toThrow('missing request for');
    const { pods } = scenario(running(1), []);
    const usage = new Map([
      ['an-older-pod-name', { valueMilli: 100, timestamp: NOW, windowMs: 60_000 }],
    ]);
    expect(() =>
      cpuReplicas({
        currentReplicas: 1,
        targetUtilization: 100,
        pods,
        usage,
        tolerances,
        timings,
        now: NOW,
      }),
    ).toThrow('no metrics returned matched known pods');
  });
});

describe('groupPods', () => {
  const pod = (over: Partial<PodSample>): PodSample => ({ name: 'p', phase: 'Succeeded', ...over });
  const sample = (over: Partial<PodUsage> = {}) =>
    new Map([['p', { valueMilli: 1, timestamp: NOW, windowMs: 60_000, ...over }]]);

  it.each([
    ['a pod without a ready condition is unready', pod({ startTime: NOW }), sample(), 0, 1],
    [
      'a ready pod with a full window of metrics during initialisation counts',
      pod({ startTime: NOW - 60_000, ready: { status: 'True', lastTransitionTime: NOW - 30_000 } }),
      sample({ windowMs: 30_000 }),
      1,
      0,
    ],
    [
      'a ready pod without fresh metrics during initialisation is unready',
      pod({ startTime: NOW - 60_000, ready: { status: 'True', lastTransitionTime: NOW - 30_000 } }),
      sample({ windowMs: 60_000 }),
      0,
      1,
    ],
    [
      'an unready pod that was ready after initialisation counts',
      pod({
        startTime: NOW - 600_000,
        ready: { status: 'False', lastTransitionTime: NOW - 540_000 },
      }),
      sample(),
      1,
      0,
    ],
    [
      'a pod never ready after initialisation is unready',
      pod({
        startTime: NOW - 600_000,
        ready: { status: 'False', lastTransitionTime: NOW - 596_000 },
      }),
      sample(),
      0,
      1,
    ],
    ['a pending pod is unready', pod({ phase: 'Pending' }), new Map(), 0, 1],
  ] as const)('%s', (_name, p, usage, ready, unready) => {
    const groups = groupPods([p], usage, timings, NOW);
    expect(groups.readyCount).toBe(ready);
    expect(groups.unready.size).toBe(unready);
  });

  it('a running pod without metrics is missing', () => {
    const groups = groupPods([pod({ startTime: NOW - 180_000 })], new Map(), timings, NOW);
    expect([...groups.missing]).toEqual(['p']);
  });
});

describe('perReplicaReplicas (external metric, AverageValue target)', () => {
  it.each([
    ['ScaleUpPerPodCMExternal', 3, 8600, 2150, 4, 2867],
    ['ScaleDownPerPodCMExternal', 5, 8600, 2867, 3, 1720],
    ['TolerancePerPodCMExternal', 3, 8600, 2900, 3, 2867],
    ['ScaleUpPerPodCMObject', 3, 20000, 5000, 4, 6667],
    ['ScaleDownPerPodCMObject', 5, 6000, 2000, 3, 1200],
    ['TolerancePerPodCMObject', 4, 20166, 5000, 4, 5042],
  ])('%s', (_name, current, total, target, replicas, average) => {
    const result = perReplicaReplicas({
      currentReplicas: current,
      total,
      targetPerReplica: target,
      tolerances,
    });
    expect(result).toEqual({ replicas, averagePerReplica: average });
  });

  it('from zero replicas takes the backlog over the target without a tolerance', () => {
    expect(
      perReplicaReplicas({ currentReplicas: 0, total: 21, targetPerReplica: 10, tolerances })
        .replicas,
    ).toBe(3);
  });
});

describe('levelReplicas (object/external metric, Value target)', () => {
  it.each([
    ['ScaleUpCMObject', 3, 3, 20000, 15000, 4],
    ['ScaleDownCMObject', 5, 5, 12000, 20000, 3],
    ['ToleranceCMObject', 3, 3, 20666, 20000, 3],
    ['ScaleUpCMObjectIgnoresUnreadyPods', 3, 1, 50000, 10000, 5],
    ['ScaleUpCMExternal', 1, 1, 8600, 4400, 2],
    ['ScaleUpCMExternalIgnoresUnreadyPods', 3, 1, 8600, 4400, 2],
    ['ScaleDownCMExternal', 5, 5, 8600, 14334, 3],
    ['ToleranceCMExternal', 3, 3, 8600, 8888, 3],
  ])('%s', (_name, current, ready, value, target, replicas) => {
    expect(
      levelReplicas({
        currentReplicas: current,
        pods: { total: current, ready },
        value,
        target,
        tolerances,
      }),
    ).toBe(replicas);
  });

  it('needs the pods only outside the tolerance, and fails without them as HPA does', () => {
    const level = { currentReplicas: 3, target: 20000, tolerances };
    expect(levelReplicas({ ...level, value: 20666 })).toBe(3);
    expect(() => levelReplicas({ ...level, value: 40000, pods: { total: 0, ready: 0 } })).toThrow(
      'no pods returned by selector while calculating replica count',
    );
    // a level from zero replicas scales on the ratio alone
    expect(levelReplicas({ ...level, currentReplicas: 0, value: 50000 })).toBe(3);
  });

  it('treats free memory as a level that falls with load', () => {
    // 1 GiB free per GPU against a target of 4 GiB free: four times the replicas
    expect(
      levelReplicas({
        currentReplicas: 2,
        pods: { total: 2, ready: 2 },
        value: 1024,
        target: 4096,
        tolerances,
        inverse: true,
      }),
    ).toBe(8);
    expect(
      levelReplicas({
        currentReplicas: 4,
        pods: { total: 4, ready: 4 },
        value: 8192,
        target: 4096,
        tolerances,
        inverse: true,
      }),
    ).toBe(2);
  });
});
