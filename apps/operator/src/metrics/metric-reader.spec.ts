import type { KubeGateway, TargetScale } from '../kube/kube.gateway';
import type { MetricSpec, ScalingPolicy } from '../policy/scaling-policy.types';
import { decide } from '../scaling/autoscaler';
import { resolveBehavior, emptyHistory } from '../scaling/behavior';
import type { GpuServiceSource } from './gpu.source';
import { PrometheusGpuSource } from './gpu.source';
import { MetricReader } from './metric-reader';
import type { QueueSource } from './queue.source';
import type { SchedulerQueueSource } from './scheduler-queue.source';
import { SharedReads } from './shared-reads';

function policyWith(metric: MetricSpec): ScalingPolicy {
  return {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'ScalingPolicy',
    metadata: { name: 'pool', namespace: 'ml' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'pool' },
      maxReplicas: 10,
      metrics: [metric],
    },
  };
}

const scale: TargetScale = { replicas: 3, statusReplicas: 3, selector: 'app=pool' };

/** Stand-ins that fail the test when called without being set up for it. */
function reader(
  over: {
    kube?: Partial<KubeGateway>;
    gpu?: Partial<GpuServiceSource>;
    queues?: Partial<QueueSource>;
    scheduler?: Partial<SchedulerQueueSource>;
  } = {},
  clock = { now: 0 },
) {
  const unexpected = (what: string) => () => {
    throw new Error(`unexpected call: ${what}`);
  };
  const prometheusCalls: string[] = [];
  const fetchFn = (async (input: string | URL | Request) => {
    prometheusCalls.push(String(input));
    const gpus = [{ metric: { UUID: 'GPU-0' }, value: [0, '16000'] }];
    return new Response(
      JSON.stringify({ status: 'success', data: { resultType: 'vector', result: gpus } }),
    );
  }) as typeof fetch;
  const kube = {
    namespacePods: unexpected('namespacePods'),
    namespacePodCpu: unexpected('namespacePodCpu'),
    ...over.kube,
  } as unknown as KubeGateway;
  const gpu = { memory: unexpected('gpu service'), ...over.gpu } as unknown as GpuServiceSource;
  const queues = { backlog: unexpected('queue'), ...over.queues } as unknown as QueueSource;
  const scheduler = {
    backlog: unexpected('scheduler queue'),
    ...over.scheduler,
  } as unknown as SchedulerQueueSource;
  return {
    prometheusCalls,
    sut: new MetricReader(
      kube,
      queues,
      gpu,
      new PrometheusGpuSource(['http://prometheus.monitoring:9090'], fetchFn),
      scheduler,
      new SharedReads(250, () => clock.now),
    ),
  };
}

const pod = (name: string, labels: Record<string, string>, ready: boolean) => ({
  metadata: { name, labels },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
  },
});

describe(MetricReader.name, () => {
  it('refuses a Prometheus URL outside the allowlist and reports it as FailedGetGpuMemoryMetric', async () => {
    const { sut, prometheusCalls } = reader();
    const policy = policyWith({
      name: 'vram',
      type: 'gpuMemory',
      gpuMemory: {
        source: 'Prometheus',
        measure: 'UsedPercent',
        prometheus: { url: 'http://169.254.169.254/latest' },
      },
    });
    const inputs = await sut.read(policy, scale);
    expect(prometheusCalls).toEqual([]);
    expect(inputs[0].error).toContain(
      'prometheus.url http://169.254.169.254/latest is not one of the Prometheus endpoints the operator may query',
    );
    const decision = decide({
      policy: { minReplicas: 1, maxReplicas: 10, behavior: resolveBehavior() },
      currentReplicas: 3,
      metrics: inputs,
      history: emptyHistory(),
      failures: 0,
      now: Date.now(),
    });
    expect(decision.conditions).toContainEqual(
      expect.objectContaining({
        type: 'ScalingActive',
        status: 'False',
        reason: 'FailedGetGpuMemoryMetric',
        message: expect.stringContaining('OPERATOR_PROMETHEUS_URLS'),
      }),
    );
  });

  it('queries the default Prometheus when the policy names none', async () => {
    const { sut, prometheusCalls } = reader();
    const inputs = await sut.read(
      policyWith({
        name: 'vram',
        type: 'gpuMemory',
        gpuMemory: { source: 'Prometheus', measure: 'UsedMiB' },
      }),
      scale,
    );
    expect(inputs[0].observation).toMatchObject({ gpus: [{ usedMiB: 16000 }] });
    expect(prometheusCalls).toHaveLength(2);
    for (const call of prometheusCalls) {
      expect(call.startsWith('http://prometheus.monitoring:9090/api/v1/query?')).toBe(true);
    }
  });

  it('counts the ready pods of the target for a GPU level with a target', async () => {
    const namespacePods = jest.fn(async () => [
      pod('pool-0', { app: 'pool' }, true),
      pod('pool-1', { app: 'pool' }, false),
      pod('pool-2', { app: 'pool' }, false),
      pod('other-0', { app: 'other' }, true),
    ]);
    const gpus = async () => [{ usedMiB: 20000, freeMiB: 12000 }];
    const clock = { now: 0 };
    const { sut } = reader(
      { kube: { namespacePods } as Partial<KubeGateway>, gpu: { memory: gpus } },
      clock,
    );
    const withTarget = policyWith({
      name: 'vram',
      type: 'gpuMemory',
      gpuMemory: { measure: 'UsedMiB', target: 10000 },
    });
    const [input] = await sut.read(withTarget, scale);
    expect(namespacePods).toHaveBeenCalledWith('ml');
    expect(input.observation).toMatchObject({ pods: { total: 3, ready: 1 } });

    // observe-only: no target, no pods to count
    clock.now += 1_000;
    const [observed] = await sut.read(
      policyWith({ name: 'vram', type: 'gpuMemory', gpuMemory: { measure: 'UsedMiB' } }),
      scale,
    );
    expect(observed.observation).toMatchObject({ pods: undefined });
    expect(namespacePods).toHaveBeenCalledTimes(1);
  });

  it('reads a queue metric from a JetStream consumer or from a scheduler queue, as the policy says', async () => {
    const asked: string[] = [];
    const { sut } = reader({
      queues: {
        backlog: (stream, consumer) => (asked.push(`js ${stream}/${consumer}`), Promise.resolve(7)),
      },
      scheduler: { backlog: (queue) => (asked.push(`scheduler ${queue}`), Promise.resolve(42)) },
    });
    const [jetstream] = await sut.read(
      policyWith({
        name: 'jobs',
        type: 'queue',
        queue: { stream: 'JOBS', consumer: 'workers', targetPerReplica: 5 },
      }),
      scale,
    );
    const [scheduled] = await sut.read(
      policyWith({
        name: 'jobs',
        type: 'queue',
        queue: { source: 'Scheduler', name: 'inference-v100', targetPerReplica: 5 },
      }),
      scale,
    );
    expect(asked).toEqual(['js JOBS/workers', 'scheduler inference-v100']);
    expect(jetstream?.observation).toMatchObject({ type: 'queue', backlog: 7 });
    expect(scheduled?.observation).toMatchObject({ type: 'queue', backlog: 42 });
  });

  it('reads a source once for all the policies that read it at the same time', async () => {
    const asked: string[] = [];
    const clock = { now: 0 };
    const { sut } = reader(
      {
        queues: {
          backlog: (stream, consumer) => (
            asked.push(`js ${stream}/${consumer}`),
            Promise.resolve(30)
          ),
        },
        gpu: {
          memory: async (namespace, kind, name) => (
            asked.push(`gpu ${namespace}/${kind}/${name}`),
            [{ usedMiB: 1, freeMiB: 1 }]
          ),
        },
      },
      clock,
    );
    const queue = (consumer: string) =>
      policyWith({
        name: 'jobs',
        type: 'queue',
        queue: { stream: 'JOBS', consumer, targetPerReplica: 5 },
      });
    const vram = policyWith({ name: 'vram', type: 'gpuMemory', gpuMemory: { measure: 'UsedMiB' } });
    const read = await Promise.all([
      ...Array.from({ length: 100 }, () => sut.read(queue('workers'), scale)),
      sut.read(queue('batch'), scale),
      sut.read(vram, scale),
      sut.read(vram, scale),
    ]);
    expect(asked.sort()).toEqual(['gpu ml/StatefulSet/pool', 'js JOBS/batch', 'js JOBS/workers']);
    expect(read.slice(0, 101).every(([m]) => m.observation?.type === 'queue')).toBe(true);
    // the next interval reads afresh
    clock.now += 1_000;
    await sut.read(queue('workers'), scale);
    expect(asked.filter((a) => a === 'js JOBS/workers')).toHaveLength(2);
  });

  it('lists the pods and their CPU once per namespace and gives each target its own', async () => {
    const lists: string[] = [];
    const namespacePods = async (namespace: string) => (
      lists.push(`pods ${namespace}`),
      [pod('web-0', { app: 'web' }, true), pod('api-0', { app: 'api' }, true)]
    );
    const namespacePodCpu = async (namespace: string) => (
      lists.push(`cpu ${namespace}`),
      new Map([
        ['web-0', { valueMilli: 100, timestamp: 0, windowMs: 30_000 }],
        ['api-0', { valueMilli: 900, timestamp: 0, windowMs: 30_000 }],
      ])
    );
    const { sut } = reader({
      kube: { namespacePods, namespacePodCpu } as unknown as Partial<KubeGateway>,
    });
    const cpu = policyWith({ name: 'cpu', type: 'cpu', cpu: { targetUtilization: 50 } });
    const [[web], [api]] = await Promise.all([
      sut.read(cpu, { ...scale, selector: 'app=web' }),
      sut.read(cpu, { ...scale, selector: 'app=api' }),
    ]);
    expect(lists.sort()).toEqual(['cpu ml', 'pods ml']);
    expect(web.observation).toMatchObject({ pods: [{ name: 'web-0' }] });
    expect(api.observation).toMatchObject({ pods: [{ name: 'api-0' }] });
  });
});
