import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Lease,
  type V1Pod,
} from '@kubernetes/client-node';
import { Agent } from 'node:https';
import type { PodCount, PodSample, PodUsage } from '../scaling/replica-calculator';
import type { WorkerPod } from '../drain/drain-plan';
import type {
  DrainStatus,
  ScalingPolicy,
  ScalingPolicyStatus,
} from '../policy/scaling-policy.types';
import { GROUP, PLURAL, VERSION } from '../crd/scaling-policy.crd';
import { cpuMilli, durationMs } from './quantity';

export interface TargetRef {
  apiVersion: string;
  kind: string;
  name: string;
}

export interface TargetScale {
  /** spec.replicas: what the target is asked to run. */
  replicas: number;
  /** status.replicas: what it runs. */
  statusReplicas: number;
  /** status.selector: the label selector of its pods, when it publishes one. */
  selector?: string;
}

/** Exposes the discovery lookup that KubernetesObjectApi keeps to itself. */
class ResourceDiscovery extends KubernetesObjectApi {
  async plural(apiVersion: string, kind: string): Promise<string> {
    const resource = await this.resource(apiVersion, kind);
    if (!resource) throw new Error(`the API server does not serve ${kind} in ${apiVersion}`);
    return resource.name;
  }
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** What a status write sets; `drain: null` clears a finished drain. */
export type StatusPatch = Omit<ScalingPolicyStatus, 'drain'> & { drain?: DrainStatus | null };

/** A pod of a target, with its annotations. */
export interface TargetPod extends WorkerPod {
  annotations: Record<string, string>;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiException && error.code === 404;
}

export function isConflict(error: unknown): boolean {
  return error instanceof ApiException && error.code === 409;
}

/**
 * The client builds a new TLS agent for every request, so every call pays a TLS handshake;
 * this makes all API clients of one KubeConfig share one keep-alive agent instead.
 */
export function reuseConnections(kubeConfig: KubeConfig): KubeConfig {
  const authenticate = kubeConfig.applySecurityAuthentication.bind(kubeConfig);
  let shared: Agent | undefined;
  kubeConfig.applySecurityAuthentication = async (context) => {
    await authenticate(context);
    const fresh = context.getAgent();
    if (!(fresh instanceof Agent)) return;
    shared ??= new Agent({ ...fresh.options, keepAlive: true, maxSockets: 32 });
    context.setAgent(shared);
  };
  return kubeConfig;
}

/** Everything the operator asks of the Kubernetes API, behind one seam. */
export class KubeGateway {
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  private readonly discovery: ResourceDiscovery;
  private readonly plurals = new Map<string, Promise<string>>();

  constructor(readonly kubeConfig: KubeConfig) {
    reuseConnections(kubeConfig);
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.coordination = kubeConfig.makeApiClient(CoordinationV1Api);
    this.discovery = kubeConfig.makeApiClient(ResourceDiscovery);
  }

  private async locate(
    ref: TargetRef,
  ): Promise<{ group: string; version: string; plural: string }> {
    const [group, version] = ref.apiVersion.includes('/')
      ? ref.apiVersion.split('/')
      : ['', ref.apiVersion];
    if (!group) throw new Error(`targets in the core API group are not supported (${ref.kind})`);
    const key = `${ref.apiVersion}/${ref.kind}`;
    let plural = this.plurals.get(key);
    if (!plural) {
      plural = this.discovery.plural(ref.apiVersion, ref.kind);
      plural.catch(() => this.plurals.delete(key));
      this.plurals.set(key, plural);
    }
    return { group, version, plural: await plural };
  }

  async getScale(namespace: string, ref: TargetRef): Promise<TargetScale> {
    const scale = (await this.custom.getNamespacedCustomObjectScale({
      ...(await this.locate(ref)),
      namespace,
      name: ref.name,
    })) as { spec?: { replicas?: number }; status?: { replicas?: number; selector?: string } };
    return {
      replicas: scale.spec?.replicas ?? 0,
      statusReplicas: scale.status?.replicas ?? 0,
      selector: scale.status?.selector || undefined,
    };
  }

  /** Sets the target's replica count; returns the target's resourceVersion after the write. */
  async setReplicas(
    namespace: string,
    ref: TargetRef,
    replicas: number,
  ): Promise<string | undefined> {
    const scale = (await this.custom.patchNamespacedCustomObjectScale(
      {
        ...(await this.locate(ref)),
        namespace,
        name: ref.name,
        body: { spec: { replicas } },
        fieldManager: 'lattice-operator',
      },
      mergePatch,
    )) as { metadata?: { resourceVersion?: string } };
    return scale.metadata?.resourceVersion;
  }

  async listPolicies(
    namespace?: string,
  ): Promise<{ items: ScalingPolicy[]; metadata: { resourceVersion?: string } }> {
    const list = namespace
      ? await this.custom.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace,
        })
      : await this.custom.listClusterCustomObject({
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
        });
    return list as { items: ScalingPolicy[]; metadata: { resourceVersion?: string } };
  }

  async writeStatus(policy: ScalingPolicy, status: StatusPatch): Promise<void> {
    await this.custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: policy.metadata.namespace,
        name: policy.metadata.name,
        body: { status },
        fieldManager: 'lattice-operator',
      },
      mergePatch,
    );
  }

  /** Every pod of a namespace, for the level metrics of all its targets (one list, shared). */
  async namespacePods(namespace: string): Promise<V1Pod[]> {
    return (await this.core.listNamespacedPod({ namespace })).items;
  }

  /** The CPU use of every pod of a namespace over the last metrics window (metrics.k8s.io). */
  async namespacePodCpu(namespace: string): Promise<Map<string, PodUsage>> {
    const metrics = (await this.custom.listNamespacedCustomObject({
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      namespace,
      plural: 'pods',
    })) as {
      items: {
        metadata: { name: string };
        timestamp: string;
        window: string;
        containers: { usage: { cpu?: string } }[];
      }[];
    };
    const usage = new Map<string, PodUsage>();
    for (const m of metrics.items) {
      usage.set(m.metadata.name, {
        valueMilli: m.containers.reduce((sum, c) => sum + cpuMilli(c.usage.cpu ?? '0'), 0),
        timestamp: Date.parse(m.timestamp),
        windowMs: durationMs(m.window),
      });
    }
    return usage;
  }

  /** The target's pods, with what a ReplicaSet ranks them by when it removes some. */
  async targetPods(namespace: string, selector: string): Promise<TargetPod[]> {
    const pods = await this.core.listNamespacedPod({ namespace, labelSelector: selector });
    return pods.items.map(targetPod);
  }

  /** One pod, read by listing (the operator may list pods, not get them); undefined when gone. */
  async pod(namespace: string, name: string): Promise<TargetPod | undefined> {
    const pods = await this.core.listNamespacedPod({
      namespace,
      fieldSelector: `metadata.name=${name}`,
    });
    return pods.items.map(targetPod)[0];
  }


  /** Sets (or, given null, removes) annotations of a pod, and nothing else of it. */
  async annotatePod(
    namespace: string,
    name: string,
    annotations: Record<string, string | null>,
  ): Promise<void> {
    await this.core.patchNamespacedPod(
      {
        namespace,
        name,
        body: { metadata: { annotations } },
        fieldManager: 'lattice-operator',
      },
      mergePatch,
    );
  }

  async recordEvent(
    policy: ScalingPolicy,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    reporter: string,
  ): Promise<void> {
    const now = new Date();
    await this.core.createNamespacedEvent({
      namespace: policy.metadata.namespace,
      body: {
        metadata: {
          generateName: `${policy.metadata.name}.`,
          namespace: policy.metadata.namespace,
        },
        involvedObject: {
          apiVersion: policy.apiVersion,
          kind: policy.kind,
          name: policy.metadata.name,
          namespace: policy.metadata.namespace,
          uid: policy.metadata.uid,
        },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: 'lattice-operator', host: reporter },
        reportingComponent: 'lattice.dev/operator',
        reportingInstance: reporter,
      },
    });
  }

  async readLease(namespace: string, name: string): Promise<V1Lease | undefined> {
    try {
      return await this.coordination.readNamespacedLease({ namespace, name });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async createLease(namespace: string, lease: V1Lease): Promise<V1Lease> {
    return this.coordination.createNamespacedLease({ namespace, body: lease });
  }

  /** Replaces the lease; fails with a conflict when someone else wrote it since it was read. */
  async replaceLease(namespace: string, lease: V1Lease): Promise<V1Lease> {
    return this.coordination.replaceNamespacedLease({
      namespace,
      name: lease.metadata!.name!,
      body: lease,
    });
  }
}

function targetPod(pod: V1Pod): TargetPod {
  return {
    name: pod.metadata?.name ?? '',
    assigned: Boolean(pod.spec?.nodeName),
    // a ReplicaSet ranks a pod without a phase with the pending ones
    phase: pod.status?.phase || 'Pending',
    ready: Boolean(pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')),
    deleting: Boolean(pod.metadata?.deletionTimestamp),
    annotations: pod.metadata?.annotations ?? {},
  };
}

/** How many of `pods` there are, and how many of them run and are ready. */
export function podCountOf(pods: V1Pod[]): PodCount {
  const ready = pods.filter(
    (pod) =>
      pod.status?.phase === 'Running' &&
      pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  ).length;
  return { total: pods.length, ready };
}

export function podSample(pod: V1Pod): PodSample {
  const containers = pod.spec?.containers ?? [];
  const requests = containers.map((c) => c.resources?.requests?.cpu);
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  return {
    name: pod.metadata?.name ?? '',
    phase: (pod.status?.phase as PodSample['phase']) ?? 'Unknown',
    deleting: Boolean(pod.metadata?.deletionTimestamp),
    requestMilli:
      containers.length > 0 && requests.every((r) => r !== undefined)
        ? requests.reduce((sum, r) => sum + cpuMilli(String(r)), 0)
        : undefined,
    startTime: pod.status?.startTime ? new Date(pod.status.startTime).getTime() : undefined,
    ready: ready
      ? {
          status: ready.status as 'True' | 'False' | 'Unknown',
          lastTransitionTime: ready.lastTransitionTime
            ? new Date(ready.lastTransitionTime).getTime()
            : 0,
        }
      : undefined,
  };
}
