import { ConditionReason } from '../policy/reasons';

/**
 * Scale-up and scale-down behaviour as HorizontalPodAutoscaler v2 computes it: stabilisation
 * windows over past recommendations, then rate limits from the policies over the scale events
 * inside each policy's period. Pure: the caller passes the time.
 */

export type PolicyType = 'Pods' | 'Percent';
export type SelectPolicy = 'Max' | 'Min' | 'Disabled';

export interface ScalingPolicyRule {
  type: PolicyType;
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: SelectPolicy;
  policies: ScalingPolicyRule[];
  /** Relative change of the metric ratio around 1.0 that is ignored in this direction. */
  tolerance: number;
}

export interface Behavior {
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
}

export const DEFAULT_TOLERANCE = 0.1;

/** HPA v2's defaults: up at most 4 pods or 100 % per 15 s, down to any size after 300 s. */
export function defaultBehavior(): Behavior {
  return {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
      tolerance: DEFAULT_TOLERANCE,
    },
    scaleDown: {
      stabilizationWindowSeconds: 300,
      selectPolicy: 'Max',
      policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
      tolerance: DEFAULT_TOLERANCE,
    },
  };
}

/** Fills what a policy leaves out from HPA's defaults, rule set by rule set. */
export function resolveBehavior(partial?: {
  scaleUp?: Partial<ScalingRules>;
  scaleDown?: Partial<ScalingRules>;
}): Behavior {
  const defaults = defaultBehavior();
  const merge = (base: ScalingRules, given?: Partial<ScalingRules>): ScalingRules => ({
    stabilizationWindowSeconds:
      given?.stabilizationWindowSeconds ?? base.stabilizationWindowSeconds,
    selectPolicy: given?.selectPolicy ?? base.selectPolicy,
    policies: given?.policies?.length ? given.policies : base.policies,
    tolerance: given?.tolerance ?? base.tolerance,
  });
  return {
    scaleUp: merge(defaults.scaleUp, partial?.scaleUp),
    scaleDown: merge(defaults.scaleDown, partial?.scaleDown),
  };
}

export interface TimedRecommendation {
  replicas: number;
  at: number;
}

export interface ScaleEvent {
  change: number;
  at: number;
  outdated?: boolean;
}

/**
 * What one policy remembers between reconciles: recent recommendations (for stabilisation)
 * and recent scale events (for rate limits). Plain data, so it can be kept in memory or
 * rebuilt, and inspected by tests.
 */
export interface ScalingHistory {
  recommendations: TimedRecommendation[];
  scaleUpEvents: ScaleEvent[];
  scaleDownEvents: ScaleEvent[];
}

export function emptyHistory(): ScalingHistory {
  return { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };
}

export interface Condition {
  type: 'AbleToScale' | 'ScalingActive' | 'ScalingLimited' | 'Draining';
  status: 'True' | 'False' | 'Unknown';
  reason: ConditionReason;
  message: string;
}

/** Replicas added (or removed) by the events that fall inside the last `periodSeconds`. */
function changeInPeriod(periodSeconds: number, events: ScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * 1000;
  let replicas = 0;
  for (const event of events) if (event.at > cutoff) replicas += event.change;
  return replicas;
}

/**
 * The bound the policies put on the size now: the highest size for scale-up, the lowest for
 * scale-down. Each policy counts from the size at the start of its period (events inside the
 * period undone); `Max` picks the policy allowing the largest change, `Min` the smallest.
 */
function policyLimit(
  up: boolean,
  current: number,
  history: ScalingHistory,
  rules: ScalingRules,
  now: number,
): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const highest = (rules.selectPolicy === 'Max') === up;
  let result = highest ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const policy of rules.policies) {
    const added = changeInPeriod(policy.periodSeconds, history.scaleUpEvents, now);
    const removed = changeInPeriod(policy.periodSeconds, history.scaleDownEvents, now);
    const start = current - added + removed;
    let proposed: number;
    if (policy.type === 'Pods') proposed = up ? start + policy.value : start - policy.value;
    else if (up) {
      // rounded up, or a small percentage of a small size would never add a replica
      proposed = Math.ceil(start * (1 + policy.value / 100));
    } else proposed = Math.trunc(start * (1 - policy.value / 100));
    result = highest ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/** The largest size the scale-up policies allow now (the current size when disabled). */
export function scaleUpLimit(
  current: number,
  history: ScalingHistory,
  rules: ScalingRules,
  now: number,
): number {
  return policyLimit(true, current, history, rules, now);
}

/** The smallest size the scale-down policies allow now (the current size when disabled). */
export function scaleDownLimit(
  current: number,
  history: ScalingHistory,
  rules: ScalingRules,
  now: number,
): number {
  return policyLimit(false, current, history, rules, now);
}

/**
 * Holds the recommendation inside the window: no higher than the lowest recommendation of
 * the scale-up window, no lower than the highest of the scale-down window. Records the raw
 * recommendation, reusing a slot that has fallen out of both windows.
 */
export function stabilize(
  current: number,
  desired: number,
  history: ScalingHistory,
  behavior: Behavior,
  now: number,
): { replicas: number; reason: ConditionReason; message: string } {
  const upCutoff = now - behavior.scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoff = now - behavior.scaleDown.stabilizationWindowSeconds * 1000;
  let upRecommendation = desired;
  let downRecommendation = desired;
  let oldSlot = -1;
  history.recommendations.forEach((rec, i) => {
    if (rec.at > upCutoff) upRecommendation = Math.min(rec.replicas, upRecommendation);
    if (rec.at > downCutoff) downRecommendation = Math.max(rec.replicas, downRecommendation);
    if (rec.at < upCutoff && rec.at < downCutoff) oldSlot = i;
  });
  let replicas = current;
  if (replicas < upRecommendation) replicas = upRecommendation;
  if (replicas > downRecommendation) replicas = downRecommendation;

  const record = { replicas: desired, at: now };
  if (oldSlot >= 0) history.recommendations[oldSlot] = record;
  else history.recommendations.push(record);

  return desired >= current
    ? {
        replicas,
        reason: ConditionReason.ScaleUpStabilized,
        message:
          'recent recommendations were lower than current one, applying the lowest recent recommendation',
      }
    : {
        replicas,
        reason: ConditionReason.ScaleDownStabilized,
        message:
          'recent recommendations were higher than current one, applying the highest recent recommendation',
      };
}

/** Applies the policies' rate limits and min/max, saying which bound (if any) applied. */
export function limitRate(
  current: number,
  desired: number,
  minReplicas: number,
  maxReplicas: number,
  history: ScalingHistory,
  behavior: Behavior,
  now: number,
): { replicas: number; reason: ConditionReason; message: string } {
  if (desired > current) {
    const limit = Math.max(scaleUpLimit(current, history, behavior.scaleUp, now), current);
    const [allowed, reason, message] =
      maxReplicas > limit
        ? [
            limit,
            ConditionReason.ScaleUpLimit,
            'the desired replica count is increasing faster than the maximum scale rate',
          ]
        : [
            maxReplicas,
            ConditionReason.TooManyReplicas,
            'the desired replica count is more than the maximum replica count',
          ];
    if (desired > allowed) return { replicas: allowed, reason, message };
  } else if (desired < current) {
    const limit = Math.min(scaleDownLimit(current, history, behavior.scaleDown, now), current);
    const [allowed, reason, message] =
      minReplicas < limit
        ? [
            limit,
            ConditionReason.ScaleDownLimit,
            'the desired replica count is decreasing faster than the maximum scale rate',
          ]
        : [
            minReplicas,
            ConditionReason.TooFewReplicas,
            'the desired replica count is less than the minimum replica count',
          ];
    if (desired < allowed) return { replicas: allowed, reason, message };
  }
  return {
    replicas: desired,
    reason: ConditionReason.DesiredWithinRange,
    message: 'the desired count is within the acceptable range',
  };
}

/**
 * Stabilises the metrics' recommendation, then limits its rate and clamps it, with the
 * AbleToScale and ScalingLimited conditions HPA would report.
 */
export function normalizeWithBehavior(args: {
  current: number;
  proposed: number;
  minReplicas: number;
  maxReplicas: number;
  behavior: Behavior;
  history: ScalingHistory;
  now: number;
}): { replicas: number; conditions: Condition[] } {
  const { current, proposed, minReplicas, maxReplicas, behavior, history, now } = args;
  const conditions: Condition[] = [];
  const stabilized = stabilize(current, proposed, history, behavior, now);
  conditions.push(
    stabilized.replicas !== proposed
      ? {
          type: 'AbleToScale',
          status: 'True',
          reason: stabilized.reason,
          message: stabilized.message,
        }
      : {
          type: 'AbleToScale',
          status: 'True',
          reason: ConditionReason.ReadyForNewScale,
          message: 'recommended size matches current size',
        },
  );
  const limited = limitRate(
    current,
    stabilized.replicas,
    minReplicas,
    maxReplicas,
    history,
    behavior,
    now,
  );
  conditions.push({
    type: 'ScalingLimited',
    status: limited.replicas === stabilized.replicas ? 'False' : 'True',
    reason: limited.reason,
    message: limited.message,
  });
  return { replicas: limited.replicas, conditions };
}

/**
 * Records a rescale that happened, dropping events older than the longest policy period
 * (HPA reuses their slots; dropping them gives the same sums).
 */
export function recordScaleEvent(
  history: ScalingHistory,
  behavior: Behavior,
  from: number,
  to: number,
  now: number,
): void {
  if (to === from) return;
  const up = to > from;
  const rules = up ? behavior.scaleUp : behavior.scaleDown;
  const longest = Math.max(0, ...rules.policies.map((p) => p.periodSeconds));
  const cutoff = now - longest * 1000;
  const key = up ? 'scaleUpEvents' : 'scaleDownEvents';
  history[key] = history[key].filter((e) => e.at > cutoff);
  history[key].push({ change: Math.abs(to - from), at: now });
}
