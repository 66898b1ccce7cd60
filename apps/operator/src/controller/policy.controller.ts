import {
  makeInformer,
  type Informer,
  type KubeConfig,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { Logger } from '@lattice/logging';
import { GROUP, PLURAL, VERSION } from '../crd/scaling-policy.crd';
import type { KubeGateway } from '../kube/kube.gateway';
import { DEFAULT_POLLING_INTERVAL_SECONDS } from '../policy/policy-status';
import type { ScalingPolicy } from '../policy/scaling-policy.types';
import { policyKey, type PolicyReconciler } from './policy.reconciler';

const MAX_BACKOFF_MS = 60_000;
/** Reconciles running at once, as controller-runtime's MaxConcurrentReconciles. */
const MAX_CONCURRENT = 16;

/**
 * Watches ScalingPolicies through an informer and, while this replica leads, reconciles each
 * on its polling interval and at once when its spec changes. One reconcile per policy at a
 * time; a failed one is retried with backoff.
 */
export class PolicyController {
  private readonly informer: Informer<ScalingPolicy> & ObjectCache<ScalingPolicy>;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly seenGeneration = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  private leading = false;
  private stopped = false;
  private synced = false;

  constructor(
    kubeConfig: KubeConfig,
    kube: KubeGateway,
    private readonly reconciler: PolicyReconciler,
    private readonly logger: Logger,
    watchNamespace?: string,
  ) {
    const path = watchNamespace
      ? `/apis/${GROUP}/${VERSION}/namespaces/${watchNamespace}/${PLURAL}`
      : `/apis/${GROUP}/${VERSION}/${PLURAL}`;
    this.informer = makeInformer<ScalingPolicy>(
      kubeConfig,
      path,
      () => kube.listPolicies(watchNamespace) as never,
    );
    this.informer.on('add', (p) => this.changed(p));
    this.informer.on('update', (p) => this.changed(p));
    this.informer.on('delete', (p) => this.deleted(p));
    this.informer.on('error', (error) => {
      this.synced = false;
      if (this.stopped) return;
      this.logger.warn({ err: error }, 'ScalingPolicy watch failed; restarting');
      setTimeout(() => void this.startInformer(), 1_000);
    });
  }

  /** Whether the watch is established (for /readyz). */
  get isSynced(): boolean {
    return this.synced;
  }

  async start(): Promise<void> {
    await this.startInformer();
  }

  private async startInformer(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.informer.start();
      this.synced = true;
    } catch (error) {
      this.logger.warn({ err: error }, 'could not start the ScalingPolicy watch; retrying');
      setTimeout(() => void this.startInformer(), 1_000);
    }
  }

  setLeading(leading: boolean): void {
    this.leading = leading;
    if (leading) {
      for (const policy of this.informer.list()) this.schedule(policyKey(policy), 0);
    } else {
      for (const timer of this.timers.values()) clearTimeout(timer);
      this.timers.clear();
      this.reconciler.forget();
    }
  }

  private changed(policy: ScalingPolicy): void {
    const key = policyKey(policy);
    const generation = policy.metadata.generation ?? 0;
    // updates that only touched status (ours) do not call for a reconcile
    if (this.seenGeneration.get(key) === generation) return;
    this.seenGeneration.set(key, generation);
    if (this.leading) this.schedule(key, 0);
  }

  private deleted(policy: ScalingPolicy): void {
    const key = policyKey(policy);
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.seenGeneration.delete(key);
    this.failures.delete(key);
    this.reconciler.forget(key);
  }

  private schedule(key: string, delayMs: number): void {
    if (this.stopped || !this.leading) return;
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.run(key);
      }, delayMs),
    );
  }

  private async run(key: string): Promise<void> {
    const running = this.inFlight.get(key);
    if (running) {
      // a reconcile is under way; run again right after it with the newest spec
      await running;
      return this.schedule(key, 0);
    }
    const [namespace, name] = key.split('/');
    const policy = this.informer.get(name, namespace);
    if (!policy || !this.leading) return;
    const interval =
      (policy.spec.pollingIntervalSeconds ?? DEFAULT_POLLING_INTERVAL_SECONDS) * 1000;
    // leadership may have moved while this one waited for a slot
    const work = this.withSlot(async () =>
      this.leading ? this.reconciler.reconcile(policy) : undefined,
    )
      .then(() => {
        this.failures.delete(key);
        this.schedule(key, interval);
      })
      .catch((error: unknown) => {
        const failures = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, failures);
        const backoff = Math.min(1_000 * 2 ** (failures - 1), interval, MAX_BACKOFF_MS);
        this.logger.error({ err: error, policy: key, retryInMs: backoff }, 'reconcile failed');
        this.schedule(key, backoff);
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, work);
    await work;
  }

  /** Runs `task` once fewer than MAX_CONCURRENT reconciles are under way. */
  private async withSlot<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= MAX_CONCURRENT) await new Promise<void>((go) => this.waiting.push(go));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.leading = false;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.informer.stop();
    await Promise.all(this.inFlight.values());
  }
}
