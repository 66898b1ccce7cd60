/** A source of uniform numbers in [0, 1): `Math.random`, or a fixed one in tests. */
export type Random = () => number;

export interface BackoffPolicy {
  /** The ceiling of the first retry's delay. */
  baseMs: number;
  /** No delay exceeds this. */
  maxMs: number;
}

/**
 * How long a job waits before its next attempt, after `attempt` attempts have failed:
 * exponential (the ceiling doubles with each attempt, up to `maxMs`) with "equal jitter",
 * half the ceiling fixed and half random, so retries of many jobs that failed together spread
 * out, yet each still waits longer than the one before it at the same ceiling.
 */
export function retryDelayMs(attempt: number, policy: BackoffPolicy, random: Random): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError('attempt must be >= 1');
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
