export interface RestartPolicyOptions {
  /** Wait before the first restart; each crash in a row doubles it. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** A run this long counts as healthy: the next crash starts over at the initial delay. */
  stableAfterMs: number;
  /** This many crashes within `windowMs` and the service is given up on. */
  maxCrashes: number;
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = {
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  stableAfterMs: 30_000,
  maxCrashes: 5,
  windowMs: 120_000,
};

export type RestartDecision =
  { restart: true; delayMs: number; crashes: number } | { restart: false; crashes: number };

/**
 * When to start a crashed service again: exponential back-off that starts over once the service
 * has stayed up a while, and no more restarts after `maxCrashes` crashes within `windowMs` (a
 * crash loop that back-off alone would only slow down).
 */
export class RestartPolicy {
  private crashTimes: number[] = [];
  private inARow = 0;

  constructor(readonly options: RestartPolicyOptions = DEFAULT_RESTART_POLICY) {}

  /** A crash at `at` after a run of `ranMs`: restart after a delay, or give up. */
  crashed(at: number, ranMs: number): RestartDecision {
    const { initialDelayMs, maxDelayMs, stableAfterMs, maxCrashes, windowMs } = this.options;
    this.crashTimes = [...this.crashTimes.filter((t) => at - t < windowMs), at];
    this.inARow = ranMs >= stableAfterMs ? 1 : this.inARow + 1;
    const crashes = this.crashTimes.length;
    if (crashes >= maxCrashes) return { restart: false, crashes };
    const delayMs = Math.min(maxDelayMs, initialDelayMs * 2 ** (this.inARow - 1));
    return { restart: true, delayMs, crashes };
  }
}
