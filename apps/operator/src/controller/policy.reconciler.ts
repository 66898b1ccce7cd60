import type { Logger } from '@lattice/logging';
import type { Clock } from '@lattice/service-runtime';
import { decide, type Decision } from '../scaling/autoscaler';
import {
  emptyHistory,
  recordScaleEvent,
  type Condition,
  type ScalingHistory,
} from '../scaling/behavior';
import type { ScaleInDrainer, DrainStep } from '../drain/scale-in-drainer';
import {
  isNotFound,
  type KubeGateway,
  type StatusPatch,
  type TargetScale,
} from '../kube/kube.gateway';
import type { TargetScales } from '../kube/target-scales';
import type { MetricReader } from '../metrics/metric-reader';
import {
  behaviorOf,
  scalingPolicyOf,
  statusAfter,
  statusAfterPatch,
  statusChanges,
} from '../policy/policy-status';
import type {
  DrainStatus,
  ScalingPolicy,
  ScalingPolicyStatus,
  StatusCondition,
} from '../policy/scaling-policy.types';
import { ConditionReason, EventReason } from '../policy/reasons';
import type { OperatorMetrics } from './operator.metrics';

export function policyKey(policy: { metadata: { namespace?: string; name?: string } }): string {
  return `${policy.metadata.namespace}/${policy.metadata.name}`;
}

interface PolicyMemory {
  history: ScalingHistory;
  failures: number;
  /**
   * The scale-in waiting for workers to drain: null when there is none, undefined until this
   * replica knows (then status.drain, written by whichever replica led before, says).
   */
  drain?: DrainStatus | null;
  /** The last Draining condition, kept on the status until another replaces it. */
  drainCondition?: Condition;
  /**
   * The status this replica last wrote, and the policy's resourceVersion it was written over:
   * until the watch delivers the write, the policy it hands out still shows the status before.
   */
  written?: { over?: string; status: ScalingPolicyStatus };
}

/**
 * One reconcile of one ScalingPolicy: read the target's scale and the metrics, decide, patch
 * the scale subresource when the size changes, write status when it changed and record
 * Events. A reconcile that finds nothing changed writes nothing. Failures propagate so the
 * controller requeues with backoff.
 */
export class PolicyReconciler {
  private readonly memory = new Map<string, PolicyMemory>();

  constructor(
    private readonly kube: KubeGateway,
    private readonly scales: TargetScales,
    private readonly reader: MetricReader,
    private readonly drainer: ScaleInDrainer,
    private readonly metrics: OperatorMetrics,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly identity: string,
  ) {}

  /**
   * Forgets a deleted policy, undoing a drain it had under way (or every policy, when
   * leadership is lost: the next leader takes their drains over from their status).
   */
  forget(key?: string): void {
    const keys = key ? [key] : [...this.memory.keys()];
    for (const k of keys) {
      const [namespace, policy] = k.split('/');
      const drain = this.memory.get(k)?.drain;
      if (key && drain)
        void this.drainer
          .release(namespace, policy, drain)
          .catch((error: unknown) =>
            this.logger.warn({ err: error, policy: k }, 'could not undo the drain of a deleted policy'),
          );
      this.memory.delete(k);
      this.metrics.desired.remove({ namespace, policy });
      this.metrics.current.remove({ namespace, policy });
    }
  }

  async reconcile(policy: ScalingPolicy): Promise<Decision | undefined> {
    const stop = this.metrics.duration.startTimer();
    try {
      const decision = await this.reconcileOnce(this.withLatestStatus(policy));
      this.metrics.reconciles.inc({ result: 'success' });
      return decision;
    } catch (error) {
      this.metrics.reconciles.inc({ result: 'error' });
      throw error;
    } finally {
      stop();
    }
  }

  /**
   * The policy with the status this replica last wrote, while the watch has not delivered that
   * write yet (the policy still has the resourceVersion the write was made over).
   */
  private withLatestStatus(policy: ScalingPolicy): ScalingPolicy {
    const written = this.memory.get(policyKey(policy))?.written;
    const over = policy.metadata.resourceVersion;
    return written && over !== undefined && written.over === over
      ? { ...policy, status: written.status }
      : policy;
  }

  private async reconcileOnce(policy: ScalingPolicy): Promise<Decision | undefined> {
    const key = policyKey(policy);
    const { namespace, name } = policy.metadata;
    const target = policy.spec.scaleTargetRef;

    let scale: TargetScale;
    try {
      scale = await this.scales.scale(namespace, target);
    } catch (error) {
      const message = `the operator could not read the scale of ${target.kind} ${target.name}: ${describe(error)}`;
      await this.event(policy, 'Warning', EventReason.FailedGetScale, message);
      const before = policy.status?.conditions?.find((c) => c.type === 'AbleToScale');
      await this.writeStatusIfPresent(policy, {
        observedGeneration: policy.metadata.generation,
        conditions: [
          {
            type: 'AbleToScale',
            status: 'False',
            reason: ConditionReason.FailedGetScale,
            message,
            lastTransitionTime:
              before?.status === 'False' && before.lastTransitionTime
                ? before.lastTransitionTime
                : this.clock.now().toISOString(),
          },
        ],
      });
      throw error;
    }

    const inputs = await this.reader.read(policy, scale);
    const memory = this.memory.get(key) ?? {
      history: emptyHistory(),
      failures: policy.status?.failedPolls ?? 0,
    };
    this.memory.set(key, memory);
    const now = this.clock.now();
    const decision = decide({
      policy: scalingPolicyOf(policy),
      currentReplicas: scale.replicas,
      statusReplicas: scale.statusReplicas,
      metrics: inputs,
      history: memory.history,
      failures: memory.failures,
      now: now.getTime(),
    });
    const firstFailure = memory.failures === 0 && decision.failures > 0;
    memory.failures = decision.failures;

    const values = Object.fromEntries(
      decision.metrics.map((m) => [
        m.name,
        m.error !== undefined
          ? { error: m.error }
          : { value: m.value, target: m.target, proposal: m.proposal, gateOpen: m.gateOpen },
      ]),
    );
    const failed = decision.metrics.filter((m) => m.error !== undefined);
    if (failed.length > 0 && firstFailure) {
      await this.event(
        policy,
        'Warning',
        EventReason.FailedGetMetrics,
        failed.map((m) => `${m.type} metric ${m.name}: ${m.error}`).join('; '),
      );
    }
    if (decision.fallbackActive && decision.rescale) {
      await this.event(
        policy,
        'Warning',
        EventReason.FallbackActive,
        `metrics failed ${decision.failures} polls in a row; holding ${decision.desiredReplicas} replicas`,
      );
    }

    const step = await this.drainStep(policy, scale, decision, memory, now);
    memory.drain = step.drain;
    if (step.condition) memory.drainCondition = step.condition;
    for (const e of step.events) await this.event(policy, e.type, e.reason, e.message);

    let scaled = false;
    if (decision.rescale && step.scale) {
      try {
        await this.scales.setReplicas(namespace, target, decision.desiredReplicas);
      } catch (error) {
        const message = `failed to set the replica count of ${target.kind} ${target.name} to ${decision.desiredReplicas}: ${describe(error)}`;
        await this.event(policy, 'Warning', EventReason.FailedRescale, message);
        throw error;
      }
      recordScaleEvent(
        memory.history,
        behaviorOf(policy),
        scale.replicas,
        decision.desiredReplicas,
        now.getTime(),
      );
      scaled = true;
      this.metrics.rescales.inc({
        direction: decision.desiredReplicas > scale.replicas ? 'up' : 'down',
      });
      await this.event(
        policy,
        'Normal',
        EventReason.SuccessfulRescale,
        `New size: ${decision.desiredReplicas}; reason: ${decision.reason}`,
      );
    }

    const current = scaled ? decision.desiredReplicas : scale.replicas;
    const status = statusAfter(policy, decision, current, decision.desiredReplicas, scaled, now);
    const written = await this.writeStatusIfPresent(policy, {
      ...status,
      conditions: withDrainCondition(status.conditions, policy, memory.drainCondition, now),
      drain: memory.drain,
    });
    // a decision that changed nothing is not news: logged at debug, so a steady state is quiet
    this.logger[scaled || written ? 'info' : 'debug'](
      {
        policy: key,
        current: scale.replicas,
        desired: decision.desiredReplicas,
        rescale: decision.rescale,
        reason: decision.reason,
        metrics: values,
        gates: decision.gates,
      },
      decision.rescale ? 'scaling decision: rescale' : 'scaling decision: hold',
    );

    this.metrics.desired.set({ namespace, policy: name }, decision.desiredReplicas);
    this.metrics.current.set({ namespace, policy: name }, current);
    return decision;
  }

  /** The drain-first step of a scale-in; a failure is reported on the policy and requeued. */
  private async drainStep(
    policy: ScalingPolicy,
    scale: TargetScale,
    decision: Decision,
    memory: PolicyMemory,
    now: Date,
  ): Promise<DrainStep> {
    const pending = memory.drain === undefined ? policy.status?.drain : memory.drain;
    try {
      return await this.drainer.step({
        policy,
        scale,
        decision,
        pending: pending ?? undefined,
        now,
      });
    } catch (error) {
      const target = policy.spec.scaleTargetRef;
      const message = `could not drain the workers of ${target.kind} ${target.name} before scaling from ${scale.replicas} to ${decision.desiredReplicas}: ${describe(error)}`;
      await this.event(policy, 'Warning', EventReason.FailedDrain, message);
      throw error;
    }
  }

  /**
   * Writes the status when it differs from the policy's (see withLatestStatus); returns whether
   * it wrote.
   */
  private async writeStatusIfPresent(policy: ScalingPolicy, status: StatusPatch): Promise<boolean> {
    const memory = this.memory.get(policyKey(policy));
    const over = policy.metadata.resourceVersion;
    const stored = policy.status;
    if (!statusChanges(stored, status)) {
      this.metrics.statusWrites.inc({ outcome: 'unchanged' });
      return false;
    }
    try {
      await this.kube.writeStatus(policy, status);
      this.metrics.statusWrites.inc({ outcome: 'written' });
      if (memory) memory.written = { over, status: statusAfterPatch(stored, status) };
      return true;
    } catch (error) {
      // deleted while we worked: nothing left to report on
      if (!isNotFound(error)) throw error;
      return false;
    }
  }

  private async event(
    policy: ScalingPolicy,
    type: 'Normal' | 'Warning',
    reason: EventReason,
    message: string,
  ): Promise<void> {
    try {
      await this.kube.recordEvent(policy, type, reason, message, this.identity);
    } catch (error) {
      // an Event is a courtesy: losing one must not stop scaling, but it is logged
      this.logger.warn({ err: error, policy: policyKey(policy), reason }, 'could not record event');
    }
  }
}

/** The decision's conditions and the Draining one, which outlives the reconcile that set it. */
function withDrainCondition(
  conditions: StatusCondition[] | undefined,
  policy: ScalingPolicy,
  latest: Condition | undefined,
  now: Date,
): StatusCondition[] | undefined {
  const before = policy.status?.conditions?.find((c) => c.type === 'Draining');
  if (!latest) return before ? [...(conditions ?? []), before] : conditions;
  const lastTransitionTime =
    before && before.status === latest.status ? before.lastTransitionTime : now.toISOString();
  return [...(conditions ?? []), { ...latest, lastTransitionTime }];
}

function describe(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return (error as Error).message ?? String(error);
}
