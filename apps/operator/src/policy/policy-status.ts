import { isDeepStrictEqual } from 'node:util';
import type { Decision } from '../scaling/autoscaler';
import { resolveBehavior, type Behavior } from '../scaling/behavior';
import type { PolicyForScaling } from '../scaling/autoscaler';
import type { ScalingPolicy, ScalingPolicyStatus, StatusCondition } from './scaling-policy.types';

export const DEFAULT_POLLING_INTERVAL_SECONDS = 15;
export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 300;

/** Targets whose pods a ReplicaSet removes, and so can be told which by deletion cost. */
const DRAINABLE_KINDS = new Set(['Deployment', 'ReplicaSet']);

/**
 * How a policy's scale-in drains first: the scheduler queue its target's workers serve (its
 * first Scheduler queue metric) and the drain timeout; undefined when it scales in at once
 * (no such metric, a target not run by a ReplicaSet, or a timeout of 0).
 */
export function drainOf(policy: ScalingPolicy): { queue: string; timeoutSeconds: number } | undefined {
  const { scaleTargetRef: target, metrics, behavior } = policy.spec;
  const timeoutSeconds =
    behavior?.scaleDown?.drainTimeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS;
  if (timeoutSeconds === 0) return undefined;
  if (target.apiVersion !== 'apps/v1' || !DRAINABLE_KINDS.has(target.kind)) return undefined;
  const queue = metrics.find((m) => m.type === 'queue' && m.queue?.source === 'Scheduler')?.queue
    ?.name;
  return queue ? { queue, timeoutSeconds } : undefined;
}

export function behaviorOf(policy: ScalingPolicy): Behavior {
  return resolveBehavior(policy.spec.behavior);
}

/** The algorithm's view of a policy, with the CRD's defaults applied. */
export function scalingPolicyOf(policy: ScalingPolicy): PolicyForScaling {
  const { spec } = policy;
  return {
    minReplicas: spec.minReplicas ?? 1,
    maxReplicas: spec.maxReplicas,
    behavior: behaviorOf(policy),
    paused: spec.paused ?? false,
    fallback: spec.fallback
      ? { failureThreshold: spec.fallback.failureThreshold ?? 3, replicas: spec.fallback.replicas }
      : undefined,
    holdScaleDownWhen: spec.holdScaleDownWhen,
  };
}

/** Keeps a condition's lastTransitionTime unless its status changed. */
function mergeConditions(
  previous: StatusCondition[] | undefined,
  decision: Decision,
  now: Date,
): StatusCondition[] {
  return decision.conditions.map((c) => {
    const before = previous?.find((p) => p.type === c.type);
    const lastTransitionTime =
      before && before.status === c.status ? before.lastTransitionTime : now.toISOString();
    return { ...c, lastTransitionTime };
  });
}

function summarize(decision: Decision): string {
  return decision.metrics
    .map((m) => {
      const value = m.error !== undefined ? '<unknown>' : (m.value ?? '-');
      const gated = m.gateOpen ? '' : ' (gated)';
      return `${m.name}: ${value}/${m.target ?? '-'}${gated}`;
    })
    .join(', ');
}

/** The status subresource after a reconcile. */
export function statusAfter(
  policy: ScalingPolicy,
  decision: Decision,
  currentReplicas: number,
  desiredReplicas: number,
  scaled: boolean,
  now: Date,
): ScalingPolicyStatus {
  return {
    observedGeneration: policy.metadata.generation,
    currentReplicas,
    desiredReplicas,
    lastScaleTime: scaled ? now.toISOString() : policy.status?.lastScaleTime,
    failedPolls: decision.failures,
    metricsSummary: summarize(decision),
    currentMetrics: decision.metrics.map((m) => ({
      name: m.name,
      type: m.type,
      value: m.value,
      target: m.target,
      proposal: m.proposal,
      gateOpen: m.gateOpen,
      active: m.active,
      error: m.error,
    })),
    gates: decision.gates,
    conditions: mergeConditions(policy.status?.conditions, decision, now),
  };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What a JSON merge patch (RFC 7386) of `patch` onto `target` gives. */
function mergePatch(target: Json | undefined, patch: Json): Json | undefined {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const base =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value) as Json;
  }
  return base;
}

/**
 * The status a merge patch of `patch` leaves, given the status before: what the API server
 * would store, so a reconcile can tell whether writing it would change anything.
 */
export function statusAfterPatch(
  before: ScalingPolicyStatus | undefined,
  patch: StatusPatchLike,
): ScalingPolicyStatus {
  // as sent: fields left undefined are not in the JSON at all
  const sent = JSON.parse(JSON.stringify(patch)) as Json;
  const base = before === undefined ? undefined : (JSON.parse(JSON.stringify(before)) as Json);
  return (mergePatch(base, sent) ?? {}) as ScalingPolicyStatus;
}

/** Whether writing `patch` would change the stored status (compared by value, not by text). */
export function statusChanges(
  before: ScalingPolicyStatus | undefined,
  patch: StatusPatchLike,
): boolean {
  const stored = before === undefined ? {} : (JSON.parse(JSON.stringify(before)) as Json);
  return !isDeepStrictEqual(statusAfterPatch(before, patch), stored);
}

/** A status patch: a status whose fields may be null to remove them. */
export type StatusPatchLike = {
  [K in keyof ScalingPolicyStatus]?: ScalingPolicyStatus[K] | null;
};
