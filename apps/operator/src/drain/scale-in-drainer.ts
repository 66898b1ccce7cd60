import type { Logger } from '@lattice/logging';
import { isNotFound, type KubeGateway, type TargetScale } from '../kube/kube.gateway';
import { drainOf } from '../policy/policy-status';
import { ConditionReason, EventReason } from '../policy/reasons';
import type { DrainStatus, ScalingPolicy } from '../policy/scaling-policy.types';
import type { Decision } from '../scaling/autoscaler';
import type { Condition } from '../scaling/behavior';
import { describeWorkers, drainVerdict, planRemoval, type DrainedWorker } from './drain-plan';
import type { SchedulerDrains } from './scheduler-drains';

/** The annotation a ReplicaSet removes the lowest of first. */
export const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
/** The lowest cost there is, so a drained pod goes before any other of its rank. */
export const DRAINED_COST = String(-(2 ** 31));
/** Which policy drained the pod (`<namespace>/<name>`), for kubectl and for cleaning up. */
export const DRAINED_FOR = 'lattice.dev/drained-for';
/** The pod's own deletion cost before the drain, put back when a drain is abandoned. */
export const COST_BEFORE = 'lattice.dev/pod-deletion-cost-before';
/**
 * A drain lapses in the scheduler this long after the operator's deadline, so a worker whose
 * pod stayed after all (the operator went away, the policy was deleted) goes back to work.
 */
export const DRAIN_LAPSE_MS = 10 * 60_000;

export interface DrainEvent {
  type: 'Normal' | 'Warning';
  reason: EventReason;
  message: string;
}

export interface DrainStep {
  /** Whether the decided size may be applied now. */
  scale: boolean;
  /** The drain still under way after this reconcile, or null when there is none. */
  drain: DrainStatus | null;
  /** The Draining condition, when this reconcile changed it. */
  condition?: Condition;
  events: DrainEvent[];
}

export interface DrainInput {
  policy: ScalingPolicy;
  scale: TargetScale;
  decision: Decision;
  /** The drain under way before this reconcile. */
  pending?: DrainStatus;
  now: Date;
}

/**
 * Scale-in that drains first. When a policy on a scheduler queue lowers its worker pool, the
 * scheduler drains the workers holding the least work, their pods get the lowest deletion
 * cost, and the size is applied once they hold nothing or the drain timeout passed. Each call
 * is one step and returns at once: the wait spans reconciles, so it holds up no other policy.
 */
export class ScaleInDrainer {
  constructor(
    private readonly kube: KubeGateway,
    private readonly scheduler: SchedulerDrains,
    private readonly logger: Logger,
  ) {}

  async step({ policy, scale, decision, pending, now }: DrainInput): Promise<DrainStep> {
    const drain = drainOf(policy);
    const from = scale.replicas;
    const to = decision.desiredReplicas;
    const shrinking = decision.rescale && to < from;
    const events: DrainEvent[] = [];
    let condition: Condition | undefined;

    if (pending) {
      const lapsed = now.getTime() >= Date.parse(pending.deadline) + DRAIN_LAPSE_MS;
      const same =
        drain?.queue === pending.queue &&
        shrinking &&
        pending.fromReplicas === from &&
        pending.toReplicas === to;
      if (lapsed || !same) {
        const why = lapsed
          ? 'the drain lapsed while the operator was away'
          : !drain
            ? 'the policy no longer drains before scaling in'
            : `the size decided is now ${to} of ${from}`;
        await this.release(policy.metadata.namespace, policy.metadata.name, pending);
        const message = `scale-in from ${pending.fromReplicas} to ${pending.toReplicas} abandoned (${why}); ${pending.workers.map((w) => w.pod).join(', ')} take jobs again`;
        events.push({ type: 'Normal', reason: EventReason.DrainAbandoned, message });
        condition = draining('False', ConditionReason.DrainAbandoned, message);
        pending = undefined;
      }
    }
    if (!drain || !shrinking) return { scale: decision.rescale, drain: null, condition, events };

    if (!pending) {
      pending = await this.start(policy, scale, drain, to, now);
      if (!pending) return { scale: true, drain: null, condition, events };
      events.push({
        type: 'Normal',
        reason: EventReason.DrainStarted,
        message: `draining ${describeWorkers(pending.workers)} of scheduler queue ${drain.queue} before scaling from ${from} to ${to}; waiting up to ${drain.timeoutSeconds} s for them to finish their jobs`,
      });
    }

    let workers: DrainedWorker[] | undefined;
    try {
      const { workers: states } = await this.scheduler.state(pending.workers.map((w) => w.pod));
      workers = states.map((w) => ({ pod: w.workerId, heldJobs: w.heldJobs }));
    } catch (error) {
      this.logger.warn(
        { err: error, policy: `${policy.metadata.namespace}/${policy.metadata.name}` },
        'could not read how much the drained workers hold; waiting for the drain timeout',
      );
    }
    const verdict = drainVerdict(
      pending.workers,
      workers,
      Date.parse(pending.deadline),
      now.getTime(),
    );
    const took = Math.round((now.getTime() - Date.parse(pending.startedAt)) / 1000);
    const names = pending.workers.map((w) => w.pod).join(', ');
    switch (verdict.outcome) {
      case 'idle': {
        const message = `${names} hold no jobs after ${took} s; scaling from ${from} to ${to}`;
        events.push({ type: 'Normal', reason: EventReason.DrainCompleted, message });
        return {
          scale: true,
          drain: null,
          condition: draining('False', ConditionReason.DrainCompleted, message),
          events,
        };
      }
      case 'timedOut': {
        const still = verdict.busy.length
          ? `${describeWorkers(verdict.busy)} still held`
          : 'what the drained workers hold unknown';
        const message = `drain timeout of ${drain.timeoutSeconds} s passed with ${still}; scaling from ${from} to ${to} anyway`;
        events.push({ type: 'Warning', reason: EventReason.DrainTimedOut, message });
        return {
          scale: true,
          drain: null,
          condition: draining('False', ConditionReason.DrainTimedOut, message),
          events,
        };
      }
      case 'waiting': {
        const updated = { ...pending, workers: workers ?? pending.workers };
        const message = `waiting until ${pending.deadline} for ${describeWorkers(verdict.busy)} to finish before scaling from ${from} to ${to}`;
        return {
          scale: false,
          drain: updated,
          condition: draining('True', ConditionReason.WaitingForDrain, message),
          events,
        };
      }
    }
  }

  /**
   * Ends a drain that will not be applied: the scheduler leases to its workers again and their
   * pods lose the cost that marked them. What cannot be undone now lapses on its own.
   */
  async release(namespace: string, policy: string, drain: DrainStatus): Promise<void> {
    const pods = drain.workers.map((w) => w.pod);
    try {
      await this.scheduler.undrain(pods);
    } catch (error) {
      this.logger.warn(
        { err: error, policy: `${namespace}/${policy}`, pods },
        'could not undo a drain; it lapses on its own',
      );
    }
    for (const pod of pods) await this.unmark(namespace, pod);
  }

  private async start(
    policy: ScalingPolicy,
    scale: TargetScale,
    drain: { queue: string; timeoutSeconds: number },
    to: number,
    now: Date,
  ): Promise<DrainStatus | undefined> {
    const { namespace, name } = policy.metadata;
    const target = policy.spec.scaleTargetRef;
    if (!scale.selector)
      throw new Error(
        `${target.kind} ${target.name} publishes no pod selector to find its workers`,
      );
    const pods = await this.kube.targetPods(namespace, scale.selector);
    const plan = planRemoval(pods, scale.replicas, to);
    const mine = `${namespace}/${name}`;
    const chosen =
      plan.drain.length + (plan.pick?.count ?? 0) === 0
        ? []
        : (
            await this.scheduler.drain({
              queue: drain.queue,
              drain: plan.drain,
              pick: plan.pick,
              expiresAt: new Date(
                now.getTime() + drain.timeoutSeconds * 1000 + DRAIN_LAPSE_MS,
              ).toISOString(),
            })
          ).workers;
    const names = new Set(chosen.map((w) => w.workerId));
    // pods left marked by an earlier drain of this policy that never finished
    const stale = pods.filter((p) => p.annotations[DRAINED_FOR] === mine && !names.has(p.name));
    if (stale.length > 0) {
      await this.scheduler.undrain(stale.map((p) => p.name));
      for (const pod of stale) await this.unmark(namespace, pod.name);
    }
    if (chosen.length === 0) return undefined;
    for (const pod of pods.filter((p) => names.has(p.name))) {
      if (pod.annotations[DRAINED_FOR] === mine) continue;
      const own = pod.annotations[DELETION_COST];
      await this.tolerateGone(
        this.kube.annotatePod(namespace, pod.name, {
          [DELETION_COST]: DRAINED_COST,
          [DRAINED_FOR]: mine,
          ...(own !== undefined ? { [COST_BEFORE]: own } : {}),
        }),
      );
    }
    return {
      queue: drain.queue,
      fromReplicas: scale.replicas,
      toReplicas: to,
      startedAt: now.toISOString(),
      deadline: new Date(now.getTime() + drain.timeoutSeconds * 1000).toISOString(),
      workers: chosen.map((w) => ({ pod: w.workerId, heldJobs: w.heldJobs })),
    };
  }

  private async unmark(namespace: string, pod: string): Promise<void> {
    const found = await this.kube.pod(namespace, pod);
    if (!found || found.annotations[DRAINED_FOR] === undefined) return;
    await this.tolerateGone(
      this.kube.annotatePod(namespace, pod, {
        [DELETION_COST]: found.annotations[COST_BEFORE] ?? null,
        [DRAINED_FOR]: null,
        [COST_BEFORE]: null,
      }),
    );
  }

  /** A pod removed meanwhile needs nothing more. */
  private async tolerateGone(work: Promise<void>): Promise<void> {
    try {
      await work;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}

function draining(status: 'True' | 'False', reason: ConditionReason, message: string): Condition {
  return { type: 'Draining', status, reason, message };
}
