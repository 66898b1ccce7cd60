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
import { DueQueue, nextDue, phaseOf } from './due-queue';
import type { OperatorMetrics } from './operator.metrics';
import { policyKey, type PolicyReconciler } from './policy.reconciler';

const MAX_BACKOFF_MS = 60_000;
/** Reconciles running at once, as controller-runtime's MaxConcurrentReconciles. */
const MAX_CONCURRENT = 32;

/**
 * Watches ScalingPolicies through an informer and, while this replica leads, reconciles each
 * on its own polling interval and at once when its spec changes. When each policy is next due
 * is kept in one queue ordered by time; one timer wakes the controller for the earliest, and
 * what is due then is reconciled, at most MAX_CONCURRENT at a time, so a moment's work is the
 * policies due in it. A policy is reconciled as soon as it appears or changes, then on its own
 * phase of its interval (its key's hash), so a thousand policies of one interval come due
 * spread over it rather than all at once, and its period stays its interval however long a
 * reconcile takes. One reconcile per policy at a time; a failed one is retried with backoff.
 */
export class PolicyController {
  private readonly informer: Informer<ScalingPolicy> & ObjectCache<ScalingPolicy>;
  private readonly due = new DueQueue();
  private timer?: NodeJS.Timeout;
  private timerAt = Infinity;
  /** Policies taken from the queue, waiting for a free slot, with when they were due. */
  private readonly ready = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Policies that fell due again while reconciling: run once more right after. */
  private readonly again = new Map<string, number>();
  private readonly seenGeneration = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private leading = false;
  private stopped = false;
  private synced = false;

  constructor(
    kubeConfig: KubeConfig,
    kube: KubeGateway,
    private readonly reconciler: PolicyReconciler,
    private readonly logger: Logger,
    watchNamespace?: string,
    private readonly metrics?: OperatorMetrics,
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
      const now = Date.now();
      for (const policy of this.informer.list()) this.schedule(policyKey(policy), now);
    } else {
      this.due.clear();
      this.ready.clear();
      this.again.clear();
      this.arm();
      this.reconciler.forget();
    }
  }

  private changed(policy: ScalingPolicy): void {
    const key = policyKey(policy);
    const generation = policy.metadata.generation ?? 0;
    // updates that only touched status (ours) do not call for a reconcile
    if (this.seenGeneration.get(key) === generation) return;
    this.seenGeneration.set(key, generation);
    if (this.leading) this.schedule(key, Date.now());
  }

  private deleted(policy: ScalingPolicy): void {
    const key = policyKey(policy);
    this.due.remove(key);
    this.ready.delete(key);
    this.again.delete(key);
    this.arm();
    this.seenGeneration.delete(key);
    this.failures.delete(key);
    this.reconciler.forget(key);
  }

  /** Makes `key` due at `dueAt` (replacing when it was due), or right after its reconcile. */
  private schedule(key: string, dueAt: number): void {
    if (this.stopped || !this.leading) return;
    if (this.inFlight.has(key)) {
      this.again.set(key, Math.min(dueAt, this.again.get(key) ?? Infinity));
      return;
    }
    if (this.ready.has(key)) {
      // already waiting for a slot: it runs with the newest spec anyway
      this.ready.set(key, Math.min(dueAt, this.ready.get(key)!));
      return;
    }
    this.due.schedule(key, dueAt);
    this.arm();
  }

  /** Sets the one timer for the earliest due time. */
  private arm(): void {
    const next = this.due.next() ?? Infinity;
    if (next === this.timerAt) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = next;
    if (next === Infinity) return;
    this.timer = setTimeout(() => this.wake(), Math.max(0, next - Date.now()));
  }

  private wake(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    for (const { key, dueAt } of this.due.takeDue(Date.now())) this.ready.set(key, dueAt);
    this.arm();
    this.pump();
  }

  /** Starts what is ready, earliest due first (the order it was taken), while slots are free. */
  private pump(): void {
    for (const [key, dueAt] of this.ready) {
      if (this.inFlight.size >= MAX_CONCURRENT || !this.leading) return;
      this.ready.delete(key);
      const work = this.run(key, dueAt).finally(() => {
        this.inFlight.delete(key);
        const again = this.again.get(key);
        if (again !== undefined) {
          this.again.delete(key);
          this.schedule(key, Math.min(again, this.due.dueAt(key) ?? Infinity));
        }
        this.pump();
      });
      this.inFlight.set(key, work);
    }
  }

  private async run(key: string, dueAt: number): Promise<void> {
    const [namespace, name] = key.split('/');
    const policy = this.informer.get(name, namespace);
    if (!policy || !this.leading) return;
    const interval =
      (policy.spec.pollingIntervalSeconds ?? DEFAULT_POLLING_INTERVAL_SECONDS) * 1000;
    const started = Date.now();
    this.metrics?.lateness.observe(Math.max(0, started - dueAt) / 1000);
    try {
      await this.reconciler.reconcile(policy);
      this.failures.delete(key);
      // due again on its phase of the interval; one that fell a whole interval behind runs now
      this.schedule(key, Math.max(nextDue(dueAt, interval, phaseOf(key, interval)), Date.now()));
    } catch (error) {
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      const backoff = Math.min(1_000 * 2 ** (failures - 1), interval, MAX_BACKOFF_MS);
      this.logger.error({ err: error, policy: key, retryInMs: backoff }, 'reconcile failed');
      this.schedule(key, Date.now() + backoff);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.leading = false;
    this.due.clear();
    this.ready.clear();
    this.again.clear();
    this.arm();
    await this.informer.stop();
    await Promise.all(this.inFlight.values());
  }
}
