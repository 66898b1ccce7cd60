/**
 * The GPU-seconds one run of a job used: whole seconds from its start to its end, each started
 * second counted (as GPU clouds bill), times the GPUs a job of its queue holds. A queue without
 * GPUs, or a run that never started, uses none.
 */
export function gpuSecondsOf(startedAt: Date | null, endedAt: Date, gpusPerJob: number): number {
  if (!startedAt || gpusPerJob <= 0) return 0;
  const ms = Math.max(0, endedAt.getTime() - startedAt.getTime());
  return Math.max(1, Math.ceil(ms / 1000)) * gpusPerJob;
}

/** Whether a tenant has used up its GPU-seconds: it gets no new GPU work until the next month. */
export function gpuQuotaExhausted(used: number, limit: number): boolean {
  return used >= limit;
}
