/**
 * Which pods a scale-in drains, and whether it may go ahead: pure, the caller reads the pods
 * and asks the scheduler.
 */

/** A pod of the target, with what its ReplicaSet ranks it by before the deletion cost. */
export interface WorkerPod {
  name: string;
  /** Bound to a node (spec.nodeName set). */
  assigned: boolean;
  phase: string;
  ready: boolean;
  /** It has a deletionTimestamp: already on its way out. */
  deleting: boolean;
}

export interface RemovalPlan {
  /** Pods the ReplicaSet removes before the others whatever their cost: drained as they are. */
  drain: string[];
  /** Pods among which the scheduler picks the `count` holding the least work. */
  pick?: { from: string[]; count: number };
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * The pods whose workers to drain so that the ReplicaSet, asked for `toReplicas` instead of
 * `fromReplicas`, removes exactly those. A ReplicaSet removes first the pods not on a node,
 * then pending before unknown before running, then unready before ready, and only among pods
 * equal in all of these by the lowest `controller.kubernetes.io/pod-deletion-cost`. So the
 * pods of every rank it removes outright are drained whatever they hold, and within the rank
 * it cuts through, the scheduler picks the workers holding the least work; marking those with
 * the lowest cost makes the ReplicaSet take them.
 */
export function planRemoval(
  pods: readonly WorkerPod[],
  fromReplicas: number,
  toReplicas: number,
): RemovalPlan {
  // pods that finished or are being deleted are not counted by the ReplicaSet
  const active = pods.filter((p) => !p.deleting && p.phase in PHASE_RANK);
  let remaining = Math.max(0, Math.min(fromReplicas, active.length) - toReplicas);
  const plan: RemovalPlan = { drain: [] };
  const ranks = new Map<string, WorkerPod[]>();
  for (const pod of active) {
    const rank = `${Number(pod.assigned)}${PHASE_RANK[pod.phase]}${Number(pod.ready)}`;
    ranks.set(rank, [...(ranks.get(rank) ?? []), pod]);
  }
  for (const rank of [...ranks.keys()].sort()) {
    if (remaining === 0) break;
    const names = ranks
      .get(rank)!
      .map((p) => p.name)
      .sort();
    if (names.length <= remaining) {
      plan.drain.push(...names);
      remaining -= names.length;
    } else {
      plan.pick = { from: names, count: remaining };
      remaining = 0;
    }
  }
  return plan;
}

/** A drained worker and the jobs it still holds. */
export interface DrainedWorker {
  pod: string;
  heldJobs: number;
}

export type DrainVerdict =
  /** Every drained worker is idle: scale now. */
  | { outcome: 'idle' }
  /** The timeout passed with work still held (or unknown): scale anyway. */
  | { outcome: 'timedOut'; busy: DrainedWorker[] }
  | { outcome: 'waiting'; busy: DrainedWorker[] };

/**
 * Whether a drain is done. `workers` is what the scheduler says each drained worker holds now,
 * or undefined when it could not be asked: then the last known figures stand, and only the
 * deadline ends the wait.
 */
export function drainVerdict(
  last: readonly DrainedWorker[],
  workers: readonly DrainedWorker[] | undefined,
  deadline: number,
  now: number,
): DrainVerdict {
  const busy = (workers ?? last).filter((w) => w.heldJobs > 0);
  if (workers && busy.length === 0) return { outcome: 'idle' };
  return now >= deadline ? { outcome: 'timedOut', busy } : { outcome: 'waiting', busy };
}

/** "pod-a (3 jobs), pod-b (1 job)" */
export function describeWorkers(workers: readonly DrainedWorker[]): string {
  return workers
    .map((w) => `${w.pod} (${w.heldJobs} ${w.heldJobs === 1 ? 'job' : 'jobs'})`)
    .join(', ');
}
