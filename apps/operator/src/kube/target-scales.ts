import {
  AppsV1Api,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type ObjectCache,
  type V1LabelSelector,
  type V1ObjectMeta,
} from '@kubernetes/client-node';
import type { Logger } from '@lattice/logging';
import type { KubeGateway, TargetRef, TargetScale } from './kube.gateway';
import { selectorString } from './label-selector';

/** A Deployment, StatefulSet or ReplicaSet: the fields their scale subresource is made of. */
interface Scalable {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec?: { replicas?: number; selector?: V1LabelSelector };
  status?: { replicas?: number };
}

/** The kinds of apps/v1 whose scale is read from a watch, by their plural. */
const WATCHED: Record<string, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  ReplicaSet: 'replicasets',
};

/** How long a scale written by the operator is read from the API while its watch catches up. */
const ECHO_WAIT_MS = 10_000;

/** The scale subresource of an apps/v1 workload, as the API server derives it. */
export function scaleOf(target: Scalable): TargetScale {
  return {
    replicas: target.spec?.replicas ?? 0,
    statusReplicas: target.status?.replicas ?? 0,
    selector: target.spec?.selector ? selectorString(target.spec.selector) || undefined : undefined,
  };
}

interface KindWatch {
  informer: Informer<Scalable> & ObjectCache<Scalable>;
  synced: boolean;
}

/**
 * The scale of policies' targets. Deployments, StatefulSets and ReplicaSets are watched (one
 * informer per kind, started when a policy first targets that kind), so a reconcile reads
 * their scale from memory instead of asking the API server; other kinds, and a watched
 * target until its watch has listed, are read through their scale subresource. After the
 * operator patches a scale it reads that target from the API until the watch has delivered
 * the write, so a reconcile never acts on the size from before its own change.
 */
export class TargetScales {
  private readonly watches = new Map<string, KindWatch>();
  /** Targets written by the operator: the resourceVersion the write made, until when to wait. */
  private readonly written = new Map<string, { resourceVersion?: string; until: number }>();
  private readonly apps: AppsV1Api;
  private stopped = false;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly kube: KubeGateway,
    private readonly logger: Logger,
    private readonly watchNamespace?: string,
    private readonly now: () => number = Date.now,
  ) {
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
  }

  async scale(namespace: string, ref: TargetRef): Promise<TargetScale> {
    const cached = this.cached(namespace, ref);
    return cached ? scaleOf(cached) : this.kube.getScale(namespace, ref);
  }

  async setReplicas(namespace: string, ref: TargetRef, replicas: number): Promise<void> {
    const resourceVersion = await this.kube.setReplicas(namespace, ref, replicas);
    if (this.watchable(namespace, ref))
      this.written.set(keyOf(namespace, ref), {
        resourceVersion,
        until: this.now() + ECHO_WAIT_MS,
      });
  }

  /** The target from its kind's watch, when that is known to be current. */
  private cached(namespace: string, ref: TargetRef): Scalable | undefined {
    if (!this.watchable(namespace, ref)) return undefined;
    const watch = this.watchOf(ref.kind);
    if (!watch.synced) return undefined;
    const target = watch.informer.get(ref.name, namespace);
    const key = keyOf(namespace, ref);
    const written = this.written.get(key);
    if (written) {
      const echoed =
        target !== undefined && target.metadata?.resourceVersion === written.resourceVersion;
      if (!echoed && this.now() < written.until) return undefined;
      this.written.delete(key);
    }
    // a target the watch does not hold is read from the API, which says why it is missing
    return target;
  }

  private watchable(namespace: string, ref: TargetRef): boolean {
    return (
      ref.apiVersion === 'apps/v1' &&
      WATCHED[ref.kind] !== undefined &&
      (this.watchNamespace === undefined || this.watchNamespace === namespace)
    );
  }

  private watchOf(kind: string): KindWatch {
    let watch = this.watches.get(kind);
    if (watch) return watch;
    const plural = WATCHED[kind];
    const ns = this.watchNamespace;
    const path = ns ? `/apis/apps/v1/namespaces/${ns}/${plural}` : `/apis/apps/v1/${plural}`;
    const informer = makeInformer<Scalable>(this.kubeConfig, path, () => this.list(kind));
    watch = { informer, synced: false };
    const current = watch;
    // the watch delivers every change in order: once it brings the write, the cache holds it
    const echo = (target: Scalable) => {
      const key = `${kind}/${target.metadata?.namespace}/${target.metadata?.name}`;
      if (this.written.get(key)?.resourceVersion === target.metadata?.resourceVersion)
        this.written.delete(key);
    };
    informer.on('add', echo);
    informer.on('update', echo);
    informer.on('error', (error) => {
      current.synced = false;
      if (this.stopped) return;
      this.logger.warn(
        { err: error, kind },
        'watch of scale targets failed; reading their scale from the API until it is back',
      );
      setTimeout(() => void this.startWatch(kind, current), 1_000);
    });
    this.watches.set(kind, watch);
    void this.startWatch(kind, watch);
    return watch;
  }

  private async startWatch(kind: string, watch: KindWatch): Promise<void> {
    if (this.stopped) return;
    try {
      await watch.informer.start();
      watch.synced = true;
    } catch (error) {
      this.logger.warn({ err: error, kind }, 'could not watch scale targets; retrying');
      setTimeout(() => void this.startWatch(kind, watch), 1_000);
    }
  }

  private async list(kind: string): Promise<KubernetesListObject<Scalable>> {
    const namespace = this.watchNamespace;
    switch (kind) {
      case 'Deployment':
        return namespace
          ? this.apps.listNamespacedDeployment({ namespace })
          : this.apps.listDeploymentForAllNamespaces();
      case 'StatefulSet':
        return namespace
          ? this.apps.listNamespacedStatefulSet({ namespace })
          : this.apps.listStatefulSetForAllNamespaces();
      default:
        return namespace
          ? this.apps.listNamespacedReplicaSet({ namespace })
          : this.apps.listReplicaSetForAllNamespaces();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.watches.values()].map((w) => w.informer.stop()));
    this.watches.clear();
  }
}

function keyOf(namespace: string, ref: TargetRef): string {
  return `${ref.kind}/${namespace}/${ref.name}`;
}
