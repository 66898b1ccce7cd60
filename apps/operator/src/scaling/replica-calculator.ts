/**
 * Per-metric replica proposals, computed the way the Kubernetes HPA replica calculator does:
 * `ceil(current × value / target)` with a tolerance, and for CPU its conservative treatment
 * of pods that are unready, starting up, missing metrics, failed or being deleted.
 */

export interface Tolerances {
  scaleUp: number;
  scaleDown: number;
}

export function withinTolerance(ratio: number, t: Tolerances): boolean {
  return 1 - t.scaleDown <= ratio && ratio <= 1 + t.scaleUp;
}

export class MetricError extends Error {
  override name = 'MetricError';
}

/** A pod of the target as the CPU calculation needs it. */
export interface PodSample {
  name: string;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  deleting?: boolean;
  /** Sum of the CPU requests of its containers, in millicores; undefined when one has none. */
  requestMilli?: number;
  /** When the pod started (ms since epoch); undefined before it has. */
  startTime?: number;
  /** The Ready condition, if the pod has one. */
  ready?: { status: 'True' | 'False' | 'Unknown'; lastTransitionTime: number };
}

/** One PodMetrics sample from metrics.k8s.io: usage over `windowMs` ending at `timestamp`. */
export interface PodUsage {
  valueMilli: number;
  timestamp: number;
  windowMs: number;
}

export interface CpuTimings {
  /** Pods younger than this may report start-up CPU spikes (HPA default 5 min). */
  cpuInitializationPeriodMs: number;
  /** A pod unready this soon after starting has never been ready (HPA default 30 s). */
  delayOfInitialReadinessStatusMs: number;
}

export const DEFAULT_CPU_TIMINGS: CpuTimings = {
  cpuInitializationPeriodMs: 5 * 60_000,
  delayOfInitialReadinessStatusMs: 30_000,
};

interface PodGroups {
  readyCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

/** Sorts pods as HPA does before it trusts their CPU numbers. */
export function groupPods(
  pods: PodSample[],
  usage: Map<string, PodUsage>,
  timings: CpuTimings,
  now: number,
): PodGroups {
  const groups: PodGroups = {
    readyCount: 0,
    unready: new Set(),
    missing: new Set(),
    ignored: new Set(),
  };
  for (const pod of pods) {
    if (pod.deleting || pod.phase === 'Failed') {
      groups.ignored.add(pod.name);
      continue;
    }
    if (pod.phase === 'Pending') {
      groups.unready.add(pod.name);
      continue;
    }
    const sample = usage.get(pod.name);
    if (!sample) {
      groups.missing.add(pod.name);
      continue;
    }
    let unready: boolean;
    if (!pod.ready || pod.startTime === undefined) {
      unready = true;
    } else if (pod.startTime + timings.cpuInitializationPeriodMs > now) {
      // still starting: trust only a ready pod with a full window of samples since it became ready
      unready =
        pod.ready.status === 'False' ||
        sample.timestamp < pod.ready.lastTransitionTime + sample.windowMs;
    } else {
      // past start-up: distrust only a pod that has never been ready
      unready =
        pod.ready.status === 'False' &&
        pod.startTime + timings.delayOfInitialReadinessStatusMs > pod.ready.lastTransitionTime;
    }
    if (unready) groups.unready.add(pod.name);
    else groups.readyCount++;
  }
  return groups;
}

/** Utilisation in whole percent (truncated, as HPA does) of the pods that have a request. */
function utilizationOf(
  usage: Map<string, number>,
  requests: Map<string, number>,
): { percent: number; averageMilli: number } {
  let used = 0;
  let requested = 0;
  for (const [name, value] of usage) {
    const request = requests.get(name);
    // metrics of pods we do not know about are extraneous, not an error
    if (request === undefined) continue;
    used += value;
    requested += request;
  }
  if (requested === 0) throw new MetricError('no metrics returned matched known pods');
  return {
    percent: Math.trunc((used * 100) / requested),
    averageMilli: Math.trunc(used / usage.size),
  };
}

export interface CpuProposal {
  replicas: number;
  /** Average utilisation of the ready pods with metrics, in percent of their requests. */
  utilization: number;
  averageMilli: number;
}

/** HPA's GetResourceReplicas for CPU with a target average utilisation in percent. */
export function cpuReplicas(args: {
  currentReplicas: number;
  targetUtilization: number;
  pods: PodSample[];
  usage: Map<string, PodUsage>;
  tolerances: Tolerances;
  timings?: CpuTimings;
  now: number;
}): CpuProposal {
  const { currentReplicas, targetUtilization, pods, tolerances, now } = args;
  if (args.usage.size === 0) throw new MetricError('no metrics returned from resource metrics API');
  if (pods.length === 0)
    throw new MetricError('no pods returned by selector while calculating replica count');

  const groups = groupPods(pods, args.usage, args.timings ?? DEFAULT_CPU_TIMINGS, now);
  const values = new Map<string, number>();
  for (const [name, sample] of args.usage) {
    if (!groups.ignored.has(name) && !groups.unready.has(name)) values.set(name, sample.valueMilli);
  }
  const requests = new Map<string, number>();
  for (const pod of pods) {
    if (pod.requestMilli === undefined)
      throw new MetricError(`missing request for cpu in pod ${pod.name}`);
    requests.set(pod.name, pod.requestMilli);
  }
  if (values.size === 0)
    throw new MetricError('did not receive metrics for targeted pods (pods might be unready)');

  const { percent, averageMilli } = utilizationOf(values, requests);
  const ratio = percent / targetUtilization;
  const scaleUpWithUnready = groups.unready.size > 0 && ratio > 1;

  if (!scaleUpWithUnready && groups.missing.size === 0) {
    if (withinTolerance(ratio, tolerances))
      return { replicas: currentReplicas, utilization: percent, averageMilli };
    return { replicas: Math.ceil(ratio * groups.readyCount), utilization: percent, averageMilli };
  }

  // missing pods count as busy on the way down (at their request, or at the target when it is
  // above 100 %) and as idle on the way up
  if (groups.missing.size > 0) {
    const fallbackPercent = Math.max(100, targetUtilization);
    for (const name of groups.missing) {
      if (ratio < 1) values.set(name, Math.trunc((requests.get(name)! * fallbackPercent) / 100));
      else if (ratio > 1) values.set(name, 0);
    }
  }
  if (scaleUpWithUnready) for (const name of groups.unready) values.set(name, 0);

  const rebalanced = utilizationOf(values, requests).percent / targetUtilization;
  const unchanged = { replicas: currentReplicas, utilization: percent, averageMilli };
  // too small a change, or the assumptions turned the direction round: stay
  if (
    withinTolerance(rebalanced, tolerances) ||
    (ratio < 1 && rebalanced > 1) ||
    (ratio > 1 && rebalanced < 1)
  ) {
    return unchanged;
  }
  const replicas = Math.ceil(rebalanced * values.size);
  if (
    (rebalanced < 1 && replicas > currentReplicas) ||
    (rebalanced > 1 && replicas < currentReplicas)
  ) {
    return unchanged;
  }
  return { replicas, utilization: percent, averageMilli };
}

/**
 * HPA's external metric with an AverageValue target: a total (a queue backlog) shared by the
 * replicas, `target` per replica. `currentReplicas` is the target's status.replicas (the pods
 * that run), as HPA's GetExternalPerPodMetricReplicas takes it. From zero there is no tolerance.
 */
export function perReplicaReplicas(args: {
  currentReplicas: number;
  total: number;
  targetPerReplica: number;
  tolerances: Tolerances;
}): { replicas: number; averagePerReplica: number } {
  const { currentReplicas, total, targetPerReplica, tolerances } = args;
  if (currentReplicas === 0) {
    return { replicas: Math.ceil(total / targetPerReplica), averagePerReplica: total };
  }
  const ratio = total / (targetPerReplica * currentReplicas);
  const replicas = withinTolerance(ratio, tolerances)
    ? currentReplicas
    : Math.ceil(total / targetPerReplica);
  return { replicas, averagePerReplica: Math.ceil(total / currentReplicas) };
}

/** The target's pods as HPA counts them for level metrics. */
export interface PodCount {
  total: number;
  /** Running with a Ready condition that is True. */
  ready: number;
}

/**
 * HPA's object/external metric with a Value target: a level the replicas should hold at
 * `target`, scaled by the ready pods (`ceil(ready × value / target)`). `currentReplicas` is the
 * target's spec.replicas.
 */
export function levelReplicas(args: {
  currentReplicas: number;
  /** Needed only when the level is outside the tolerance. */
  pods?: PodCount;
  value: number;
  target: number;
  tolerances: Tolerances;
  /** For levels that fall as load rises (free memory): the ratio is target / value. */
  inverse?: boolean;
}): number {
  const { currentReplicas, pods, value, target, tolerances } = args;
  const ratio = args.inverse
    ? value <= 0
      ? Number.POSITIVE_INFINITY
      : target / value
    : value / target;
  if (currentReplicas === 0) return Math.ceil(ratio);
  if (withinTolerance(ratio, tolerances)) return currentReplicas;
  if (!pods || pods.total === 0)
    throw new MetricError('no pods returned by selector while calculating replica count');
  return Math.ceil(ratio * pods.ready);
}
