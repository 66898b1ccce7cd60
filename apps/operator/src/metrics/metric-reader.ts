import type { KubeGateway, TargetScale } from '../kube/kube.gateway';
import type { MetricInput, Observation } from '../scaling/autoscaler';
import type { MetricSpec, ScalingPolicy } from '../policy/scaling-policy.types';
import type { GpuServiceSource, PrometheusGpuSource } from './gpu.source';
import type { QueueSource } from './queue.source';
import type { SchedulerQueueSource } from './scheduler-queue.source';

/** Reads every metric of a policy; a metric that cannot be read carries its error instead. */
export class MetricReader {
  constructor(
    private readonly kube: KubeGateway,
    private readonly queues: QueueSource,
    private readonly gpuService: GpuServiceSource,
    private readonly prometheus: PrometheusGpuSource,
    private readonly schedulerQueues: SchedulerQueueSource,
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
        const { pods, usage } = await this.kube.podCpu(namespace, this.selectorOf(policy, scale));
        return { type: 'cpu', targetUtilization: spec.cpu.targetUtilization, pods, usage };
      }
      case 'queue': {
        if (!spec.queue) throw new Error('queue metric without settings');
        const { source = 'JetStream', stream, consumer, name } = spec.queue;
        // the API server's validation guarantees the fields each source needs
        const backlog =
          source === 'Scheduler'
            ? await this.schedulerQueues.backlog(name!)
            : await this.queues.backlog(stream!, consumer!);
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
        const gpus =
          gpu.source === 'Prometheus'
            ? await this.prometheus.memory(
                gpu.prometheus?.url,
                gpu.prometheus?.selector ?? `namespace="${namespace}",pod=~"${target.name}-.*"`,
              )
            : await this.gpuService.memory(namespace, target.kind, target.name);
        return {
          type: 'gpuMemory',
          measure: gpu.measure,
          aggregation: gpu.aggregation ?? 'Average',
          gpus,
          target: gpu.target,
          // a level is scaled by the ready pods (HPA's Value target), so count them when it can be
          pods:
            gpu.target !== undefined && scale.replicas > 0
              ? await this.kube.podCount(namespace, this.selectorOf(policy, scale))
              : undefined,
        };
      }
    }
  }
}
