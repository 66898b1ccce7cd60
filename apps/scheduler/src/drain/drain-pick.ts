/** A worker the operator may remove, as the scheduler sees it. */
export interface DrainCandidate {
  workerId: string;
  /** Jobs it holds, leased or running. */
  heldJobs: number;
  draining: boolean;
  /** When it registered (ms); undefined for a pod that never did, which counts as the newest. */
  registeredAt?: number;
}

/**
 * The `count` candidates to drain: those holding the least work; among equals those already
 * draining (so a retried call drains the same workers), then the newest (as a ReplicaSet
 * prefers to remove the youngest pods), then by name, so the choice is the same every time.
 */
export function pickWorkersToDrain(candidates: readonly DrainCandidate[], count: number): string[] {
  if (count <= 0) return [];
  const newest = (c: DrainCandidate) => c.registeredAt ?? Number.POSITIVE_INFINITY;
  return [...candidates]
    .sort(
      (a, b) =>
        a.heldJobs - b.heldJobs ||
        Number(b.draining) - Number(a.draining) ||
        (newest(b) === newest(a) ? 0 : newest(b) > newest(a) ? 1 : -1) ||
        (a.workerId < b.workerId ? -1 : a.workerId > b.workerId ? 1 : 0),
    )
    .slice(0, count)
    .map((c) => c.workerId);
}
