import {
  emptyHistory,
  normalizeWithBehavior,
  type Behavior,
  type Condition,
  type ScalingHistory,
} from './behavior';
import {
  MetricError,
  cpuReplicas,
  levelReplicas,
  perReplicaReplicas,
  type CpuTimings,
  type PodCount,
  type PodSample,
  type PodUsage,
  type Tolerances,
} from './replica-calculator';
import { ConditionReason } from '../policy/reasons';

export type MetricType = 'cpu' | 'queue' | 'gpuMemory';
export type GpuMeasure = 'UsedPercent' | 'UsedMiB' | 'FreeMiB';
export type GpuAggregation = 'Average' | 'Max' | 'Min';

/** "While metric X is above/below V": opens a metric, or holds scale-in. */
export interface Gate {
  metric: string;
  above?: number;
  below?: number;
}

export interface GpuSample {
  usedMiB: number;
  freeMiB: number;
}

/** What was read for a metric; the controller fetches it, the algorithm judges it. */
export type Observation =
  | { type: 'cpu'; targetUtilization: number; pods: PodSample[]; usage: Map<string, PodUsage> }
  | { type: 'queue'; backlog: number; targetPerReplica?: number; activationThreshold: number }
  | {
      type: 'gpuMemory';
      measure: GpuMeasure;
      aggregation: GpuAggregation;
      gpus: GpuSample[];
      target?: number;
      /** The target's pods, read when there is a target to scale on. */
      pods?: PodCount;
    };

export interface MetricInput {
  name: string;
  type: MetricType;
  /** Only scale on this metric while every gate holds. */
  activeWhen?: Gate[];
  observation?: Observation;
  /** Why it could not be read; set instead of `observation`. */
  error?: string;
}

export interface MetricResult {
  name: string;
  type: MetricType;
  /** cpu: utilisation %, queue: backlog, gpuMemory: the measure, aggregated over GPUs. */
  value?: number;
  target?: number;
  proposal?: number;
  /** False while a gate is shut: the metric is read and shown but does not scale. */
  gateOpen: boolean;
  /** queue: backlog above the activation threshold. */
  active?: boolean;
  error?: string;
}

export interface GateResult {
  /** The gated metric, or `scaleDown` for a hold on scale-in. */
  gates: string;
  metric: string;
  condition: string;
  /** True when the condition holds (the metric may scale; scale-in is held). */
  holds: boolean;
  value?: number;
}

export interface PolicyForScaling {
  minReplicas: number;
  maxReplicas: number;
  behavior: Behavior;
  paused?: boolean;
  fallback?: { failureThreshold: number; replicas: number };
  holdScaleDownWhen?: Gate[];
}

export interface DecisionInput {
  policy: PolicyForScaling;
  /** spec.replicas of the target: the size it is asked for, and the size a decision changes. */
  currentReplicas: number;
  /**
   * status.replicas of the target: the pods it runs, which HPA divides per-replica metrics by
   * (defaults to currentReplicas).
   */
  statusReplicas?: number;
  metrics: MetricInput[];
  history: ScalingHistory;
  /** Failed polls in a row before this one. */
  failures: number;
  now: number;
  cpuTimings?: CpuTimings;
}

export interface Decision {
  desiredReplicas: number;
  rescale: boolean;
  /** Why, in words, for the log and the Event. */
  reason: string;
  metrics: MetricResult[];
  gates: GateResult[];
  conditions: Condition[];
  /** Failed polls in a row after this one. */
  failures: number;
  fallbackActive: boolean;
}

const MAX_REPLICAS = 2 ** 31 - 1;

const FAILED_REASON: Record<MetricType, ConditionReason> = {
  cpu: ConditionReason.FailedGetCpuMetric,
  queue: ConditionReason.FailedGetQueueMetric,
  gpuMemory: ConditionReason.FailedGetGpuMemoryMetric,
};

function gpuValue(measure: GpuMeasure, aggregation: GpuAggregation, gpus: GpuSample[]): number {
  if (gpus.length === 0) throw new MetricError('no GPUs reported for the target');
  const per = gpus.map((g) => {
    if (measure === 'UsedMiB') return g.usedMiB;
    if (measure === 'FreeMiB') return g.freeMiB;
    const total = g.usedMiB + g.freeMiB;
    return total === 0 ? 0 : (g.usedMiB * 100) / total;
  });
  if (aggregation === 'Max') return Math.max(...per);
  if (aggregation === 'Min') return Math.min(...per);
  return per.reduce((a, b) => a + b, 0) / per.length;
}

function describeGate(g: Gate): string {
  return [
    g.above !== undefined ? `above ${g.above}` : '',
    g.below !== undefined ? `below ${g.below}` : '',
  ]
    .filter(Boolean)
    .join(' and ');
}

/** A gate holds when its metric was read and is inside the bounds; unknown counts as not. */
function gateHolds(g: Gate, values: Map<string, number | undefined>): boolean {
  const value = values.get(g.metric);
  if (value === undefined) return false;
  if (g.above !== undefined && !(value > g.above)) return false;
  if (g.below !== undefined && !(value < g.below)) return false;
  return true;
}

/** Reads a metric's current value and, when it may scale, its replica proposal. */
function evaluate(
  metric: MetricInput,
  input: DecisionInput,
  tolerances: Tolerances,
): Omit<MetricResult, 'gateOpen'> {
  const base = { name: metric.name, type: metric.type };
  if (metric.error !== undefined || !metric.observation) {
    return { ...base, error: metric.error ?? 'not read' };
  }
  const current = input.currentReplicas;
  const obs = metric.observation;
  try {
    switch (obs.type) {
      case 'cpu': {
        if (current === 0) return base;
        const cpu = cpuReplicas({
          currentReplicas: current,
          targetUtilization: obs.targetUtilization,
          pods: obs.pods,
          usage: obs.usage,
          tolerances,
          timings: input.cpuTimings,
          now: input.now,
        });
        return {
          ...base,
          value: cpu.utilization,
          target: obs.targetUtilization,
          proposal: cpu.replicas,
        };
      }
      case 'queue': {
        const active = obs.backlog > obs.activationThreshold;
        const result = { ...base, value: obs.backlog, target: obs.targetPerReplica, active };
        if (obs.targetPerReplica === undefined) return result;
        // at or below the activation threshold a queue asks for nothing
        if (!active) return { ...result, proposal: 0 };
        const { replicas } = perReplicaReplicas({
          currentReplicas: input.statusReplicas ?? current,
          total: obs.backlog,
          targetPerReplica: obs.targetPerReplica,
          tolerances,
        });
        return { ...result, proposal: Math.max(replicas, current === 0 ? 1 : 0) };
      }
      case 'gpuMemory': {
        const value = gpuValue(obs.measure, obs.aggregation, obs.gpus);
        const result = { ...base, value: Math.round(value * 100) / 100, target: obs.target };
        if (obs.target === undefined || current === 0) return result;
        const proposal = levelReplicas({
          currentReplicas: current,
          pods: obs.pods,
          value,
          target: obs.target,
          tolerances,
          inverse: obs.measure === 'FreeMiB',
        });
        return { ...result, proposal: Math.min(proposal, MAX_REPLICAS) };
      }
    }
  } catch (error) {
    if (error instanceof MetricError) return { ...base, error: error.message };
    throw error;
  }
}

function setCondition(conditions: Condition[], condition: Condition): void {
  const i = conditions.findIndex((c) => c.type === condition.type);
  if (i >= 0) conditions[i] = condition;
  else conditions.push(condition);
}

/**
 * One reconcile's decision for one policy: read each metric's proposal, take the largest,
 * stabilise and rate-limit it as HPA v2 does, clamp it, and fall back or hold where the
 * policy says. Mutates `history` (recommendations); the caller records the scale event once
 * the rescale has been applied.
 */
export function decide(input: DecisionInput): Decision {
  const { policy, currentReplicas: current, now } = input;
  const behavior = policy.behavior;
  const tolerances = {
    scaleUp: behavior.scaleUp.tolerance,
    scaleDown: behavior.scaleDown.tolerance,
  };
  const conditions: Condition[] = [
    {
      type: 'AbleToScale',
      status: 'True',
      reason: ConditionReason.SucceededGetScale,
      message: 'the target scale is readable',
    },
  ];

  const evaluated = input.metrics.map((m) => evaluate(m, input, tolerances));
  const values = new Map(evaluated.map((m) => [m.name, m.value]));
  const gates: GateResult[] = [];
  const metrics: MetricResult[] = evaluated.map((m, i) => {
    let gateOpen = true;
    for (const gate of input.metrics[i].activeWhen ?? []) {
      const holds = gateHolds(gate, values);
      gates.push({
        gates: m.name,
        metric: gate.metric,
        condition: describeGate(gate),
        holds,
        value: values.get(gate.metric),
      });
      gateOpen &&= holds;
    }
    return { ...m, gateOpen };
  });
  let holdScaleDown = false;
  for (const gate of policy.holdScaleDownWhen ?? []) {
    // a metric that could not be read holds scale-in too: shrinking blind is the risk
    const holds = values.get(gate.metric) === undefined || gateHolds(gate, values);
    gates.push({
      gates: 'scaleDown',
      metric: gate.metric,
      condition: describeGate(gate),
      holds,
      value: values.get(gate.metric),
    });
    holdScaleDown ||= holds;
  }

  const result = (desired: number, reason: string, extra: Partial<Decision> = {}): Decision => ({
    desiredReplicas: desired,
    rescale: desired !== current,
    reason,
    metrics,
    gates,
    conditions,
    failures: input.failures,
    fallbackActive: false,
    ...extra,
  });

  if (policy.paused) {
    setCondition(conditions, {
      type: 'ScalingActive',
      status: 'False',
      reason: ConditionReason.ScalingPaused,
      message: 'scaling is paused by spec.paused',
    });
    return result(current, 'paused');
  }
  if (current === 0 && policy.minReplicas !== 0) {
    setCondition(conditions, {
      type: 'ScalingActive',
      status: 'False',
      reason: ConditionReason.ScalingDisabled,
      message: 'scaling is disabled since the replica count of the target is zero',
    });
    return result(0, 'target scaled to zero by hand');
  }
  if (current > policy.maxReplicas) {
    return result(policy.maxReplicas, 'current number of replicas above spec.maxReplicas');
  }
  if (current < policy.minReplicas) {
    return result(policy.minReplicas, 'current number of replicas below spec.minReplicas');
  }

  const considered = metrics.filter((m) => !(current === 0 && m.type !== 'queue'));
  const invalid = considered.filter((m) => m.error !== undefined);
  const proposing = considered.filter((m) => m.gateOpen && m.proposal !== undefined);
  const proposal = proposing.reduce((max, m) => Math.max(max, m.proposal!), 0);
  const leading = proposing.find((m) => m.proposal === proposal);

  if (invalid.length > 0 && (invalid.length >= considered.length || proposal < current)) {
    const failures = input.failures + 1;
    const first = invalid[0];
    const message = `unable to get ${first.type} metric ${first.name}: ${first.error}`;
    if (policy.fallback && failures >= policy.fallback.failureThreshold) {
      const replicas = Math.min(
        Math.max(policy.fallback.replicas, policy.minReplicas),
        policy.maxReplicas,
      );
      setCondition(conditions, {
        type: 'ScalingActive',
        status: 'False',
        reason: ConditionReason.FallbackActive,
        message: `${message}; holding the fallback of ${replicas} replicas after ${failures} failed polls`,
      });
      return result(replicas, `fallback after ${failures} failed polls`, {
        failures,
        fallbackActive: true,
      });
    }
    setCondition(conditions, {
      type: 'ScalingActive',
      status: 'False',
      reason: FAILED_REASON[first.type],
      message,
    });
    return result(current, 'metrics unavailable', { failures });
  }

  let proposed = leading ? proposal : current;
  setCondition(
    conditions,
    leading
      ? {
          type: 'ScalingActive',
          status: 'True',
          reason: ConditionReason.ValidMetricFound,
          message: `the operator was able to successfully calculate a replica count from ${leading.type} metric ${leading.name}`,
        }
      : {
          type: 'ScalingActive',
          status: 'True',
          reason: ConditionReason.NoMetricProposing,
          message: 'every metric is gated or observe-only; holding the current replica count',
        },
  );
  const held = holdScaleDown && proposed < current;
  if (held) proposed = current;

  // a fresh operator (a restart, a new leader) must not shrink before a full window has passed
  if (
    input.history.recommendations.length === 0 &&
    behavior.scaleDown.stabilizationWindowSeconds > 0
  ) {
    input.history.recommendations.push({ replicas: current, at: now });
  }
  const normalized = normalizeWithBehavior({
    current,
    proposed,
    minReplicas: policy.minReplicas,
    maxReplicas: policy.maxReplicas,
    behavior,
    history: input.history,
    now,
  });
  for (const c of normalized.conditions) setCondition(conditions, c);
  if (held) {
    setCondition(conditions, {
      type: 'AbleToScale',
      status: 'True',
      reason: ConditionReason.ScaleDownHeld,
      message: 'scale-in is held while a holdScaleDownWhen condition is true',
    });
  }
  let desired = normalized.replicas;
  // waking from zero gives at least one replica whatever the rate policies say
  if (current === 0 && proposed > 0) desired = Math.max(desired, 1, policy.minReplicas);

  const why = leading
    ? `${leading.type} metric ${leading.name} at ${leading.value}${leading.target !== undefined ? ` (target ${leading.target})` : ''} proposes ${leading.proposal}`
    : 'no metric proposes a size';
  return result(desired, why, { failures: 0 });
}

export { emptyHistory };
