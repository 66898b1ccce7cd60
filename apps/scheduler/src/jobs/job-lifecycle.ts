import type { JobState } from '@lattice/contracts';

/**
 * The moves a job may make: `queued → leased → running → succeeded | failed | cancelled`,
 * back to `queued` from a held job whose attempt failed or whose lease expired (retried), to
 * `dead` after its last attempt, and from `dead` to `queued` only by an explicit retry. No move
 * skips a state: a job cannot succeed before it ran, nor run before it was leased.
 */
const MOVES: Readonly<Record<JobState, readonly JobState[]>> = {
  queued: ['leased', 'cancelled'],
  leased: ['running', 'queued', 'failed', 'dead', 'cancelled'],
  running: ['succeeded', 'queued', 'failed', 'dead', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
  dead: ['queued'],
};

export function canMove(from: JobState, to: JobState): boolean {
  return MOVES[from].includes(to);
}

/** Whether a worker holds the job (its lease counts against the queue's slots). */
export function isHeld(state: JobState): boolean {
  return state === 'leased' || state === 'running';
}

/**
 * Where a held job goes when its attempt ends without success: a permanent failure fails it;
 * a retryable one (or an expired lease) returns it to the queue, unless that was its last
 * attempt, which makes it dead.
 */
export function afterFailedAttempt(
  attempts: number,
  maxAttempts: number,
  retryable: boolean,
): 'queued' | 'failed' | 'dead' {
  if (!retryable) return 'failed';
  return attempts >= maxAttempts ? 'dead' : 'queued';
}
