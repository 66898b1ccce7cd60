import type { V1Pod } from '@kubernetes/client-node';
import { podCountOf, podSample, type KubeGateway, type TargetScale } from '../kube/kube.gateway';
import { labelMatcher } from '../kube/label-selector';
import type { MetricInput, Observation } from '../scaling/autoscaler';
import type { MetricSpec, ScalingPolicy } from '../policy/scaling-policy.types';
import type { GpuServiceSource, PrometheusGpuSource } from './gpu.source';
import type { QueueSource } from './queue.source';
import type { SchedulerQueueSource } from './scheduler-queue.source';
import { SharedReads } from './shared-reads';

/**
 * How long a read of a source serves every policy that reads the same source: shorter than
 * the shortest polling interval (1 s), so each reconcile of a policy sees a new reading.
 */
export const SHARED_READ_WINDOW_MS = 250;

/**
 * Reads every metric of a policy; a metric that cannot be read carries its error instead.
 * Policies reading the same source at about the same time share one read of it: one consumer
 * info per JetStream consumer, one depth per scheduler queue, one GPU query per workload, one
 * list of pods and of their CPU use per namespace.
 */
export class MetricReader {
  constructor(
    private readonly kube: KubeGateway,
    private readonly queues: QueueSource,
    private readonly gpuService: GpuServiceSource,
    private readonly prometheus: PrometheusGpuSource,
    private readonly schedulerQueues: SchedulerQueueSource,
    private readonly shared: SharedReads = new SharedReads(SHARED_READ_WINDOW_MS),
  ) {}

  async read(policy: ScalingPolicy, scale: TargetScale): Promise<MetricInput[]> {
    return Promise.all(
      policy.spec.metrics.map(async (spec): Promise<MetricInput> => {
        const base = { name: spec.name, type: spec.type, activeWhen: spec.activeWhen };
        try {
          return { ...base, observation: await this.observe(policy, spec, scale) };
        } catch (error) {
          return { ...base, error: (error as Error).message || String(error) };
        }
      }),
    );
  }

  /** The pods of the namespace that the target's selector matches. */
  private async podsOf(namespace: string, selector: string): Promise<V1Pod[]> {
    const matches = labelMatcher(selector);
    const pods = await this.shared.read(`pods:${namespace}`, () =>
      this.kube.namespacePods(namespace),
    );
    return pods.filter((pod) => matches(pod.metadata?.labels));
  }

  private selectorOf(policy: ScalingPolicy, scale: TargetScale): string {
    const target = policy.spec.scaleTargetRef;
    if (!scale.selector)
      throw new Error(
        `${target.kind} ${target.name} publishes no pod selector in its scale subresource`,
      );
    return scale.selector;
  }

  private async observe(
    policy: ScalingPolicy,
    spec: MetricSpec,
    scale: TargetScale,
  ): Promise<Observation> {
    const namespace = policy.metadata.namespace;
    const target = policy.spec.scaleTargetRef;
    switch (spec.type) {
      case 'cpu': {
        if (!spec.cpu) throw new Error('cpu metric without settings');
        const [pods, usage] = await Promise.all([
          this.podsOf(namespace, this.selectorOf(policy, scale)),
          this.shared.read(`pod-cpu:${namespace}`, () => this.kube.namespacePodCpu(namespace)),
        ]);
        return {
          type: 'cpu',
          targetUtilization: spec.cpu.targetUtilization,
          pods: pods.map(podSample),
          usage,
        };
      }
      case 'queue': {
        if (!spec.queue) throw new Error('queue metric without settings');
        const { source = 'JetStream', stream, consumer, name } = spec.queue;
        // the API server's validation guarantees the fields each source needs
        const backlog =
          source === 'Scheduler'
            ? await this.shared.read(`scheduler:${name}`, () => this.schedulerQueues.backlog(name!))
            : await this.shared.read(`jetstream:${stream}/${consumer}`, () =>
                this.queues.backlog(stream!, consumer!),
              );
        return {
          type: 'queue',
          backlog,
          targetPerReplica: spec.queue.targetPerReplica,
          activationThreshold: spec.queue.activationThreshold ?? 0,
        };
      }
      case 'gpuMemory': {
        const gpu = spec.gpuMemory;
        if (!gpu) throw new Error('gpuMemory metric without settings');
        const selector =
          gpu.prometheus?.selector ?? `namespace="${namespace}",pod=~"${target.name}-.*"`;
        const gpus =
          gpu.source === 'Prometheus'
            ? await this.shared.read(
                `prometheus:${JSON.stringify([gpu.prometheus?.url ?? null, selector])}`,
                () => this.prometheus.memory(gpu.prometheus?.url, selector),
              )
            : await this.shared.read(`gpu:${namespace}/${target.kind}/${target.name}`, () =>
                this.gpuService.memory(namespace, target.kind, target.name),
              );
        return {
          type: 'gpuMemory',
          measure: gpu.measure,
          aggregation: gpu.aggregation ?? 'Average',
          gpus,
          target: gpu.target,
          // a level is scaled by the ready pods (HPA's Value target), so count them when it can be
          pods:
            gpu.target !== undefined && scale.replicas > 0
              ? podCountOf(await this.podsOf(namespace, this.selectorOf(policy, scale)))
              : undefined,
        };
      }
    }
  }
}
