/**
 * Thrown by a handler for a job that can never succeed (bad input, a model that does not
 * exist): the job fails at once, without another attempt. Any other error is retryable: the
 * job goes back to its queue after a back-off, and to the dead letters after its last attempt.
 */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

/** Why a job's `signal` fired. */
export type AbortReason =
  /** The job ran past its `timeoutSeconds`: it fails, and is retried. */
  | 'timeout'
  /** Someone cancelled it: the job is already `cancelled`; nothing is reported. */
  | 'cancelled'
  /** The scheduler says the worker holds it no more (cancelled, or its lease expired). */
  | 'revoked'
  /** No heartbeat kept the lease in time: another worker may run the job now. */
  | 'lease-lost'
  /** The worker is stopping: the job is handed back to its queue. */
  | 'shutdown';

/** The `reason` of a job's aborted signal. */
export class JobAbortedError extends Error {
  override name = 'JobAbortedError';

  constructor(readonly reason: AbortReason) {
    super(`the job was stopped: ${reason}`);
  }
}
