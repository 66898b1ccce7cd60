import type { NatsConnection } from 'nats';
import {
  DomainError,
  ErrorCode,
  JobProgress,
  type JobState,
  type LeasedJob,
} from '@lattice/contracts';
import { createLogger, type Logger } from '@lattice/logging';
import type { ContextSigner } from '@lattice/request-context';
import { JobAbortedError, PermanentJobError, type AbortReason } from './job-errors';
import { ProgressReporter } from './progress-reporter';
import { NatsSchedulerClient, type SchedulerClient } from './scheduler-client';
import { Wakeup, backoff, sleep } from './timing';
import { workerIdentity } from './worker-identity';

/** What a handler receives beside the job. */
export interface JobContext {
  /**
   * Fires when the job must stop: it ran past its timeout, it was cancelled, the worker lost
   * its lease, or the worker is shutting down. `signal.reason` is a `JobAbortedError` saying
   * which. A handler passes it on to what it awaits (`fetch(url, { signal })`); once it fires,
   * the worker no longer waits for the handler, and what it returns is ignored.
   */
  signal: AbortSignal;
  /** The attempt this run is, from 1. */
  attempt: number;
  workerId: string;
  /**
   * Tells the scheduler how far the job has come (`GET /v1/jobs/{id}` shows it). Call it as
   * often as suits the handler: at most one report is in flight and none goes sooner than
   * `progressMs` after the last, the newest replacing any waiting; the last one reaches the
   * scheduler before the job is reported ended. Throws a VALIDATION_FAILED `DomainError` for a
   * report the contract refuses (`done` above `total`, a negative count).
   */
  reportProgress(progress: JobProgress): void;
}

/** The result is stored with the job (a JSON object, at most 64 KiB); nothing stores none. */
export type JobHandler = (job: LeasedJob, context: JobContext) => Promise<JobResult | void>;

/** What a handler may return: a JSON object. */
export type JobResult = Record<string, JsonValue>;
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What happened to a job this worker held, for logs, metrics and tests. */
export type WorkerEvent =
  | { type: 'completed'; job: LeasedJob }
  | { type: 'failed'; job: LeasedJob; error: string; retryable: boolean }
  | { type: 'released'; job: LeasedJob }
  | { type: 'stopped'; job: LeasedJob; reason: AbortReason };

export interface WorkerOptions {
  /** The queue it serves. */
  queue: string;
  /** Jobs it runs at once. */
  concurrency: number;
  /** A handler per job type; a job of another type fails, permanently. */
  handlers: Record<string, JobHandler>;
  /** Its identity; the pod name or `<host>-<pid>` when left out (see `workerIdentity`). */
  workerId?: string;
  /**
   * How long a drain waits for the jobs in hand to finish before it hands back the rest.
   * Keep it under the pod's `terminationGracePeriodSeconds`. Default 25 s.
   */
  graceMs?: number;
  /** How often an idle worker asks for work when no hint reaches it. Default 2 s. */
  pollMs?: number;
  /** How often it renews its leases; a third of the scheduler's lease when left out. */
  heartbeatMs?: number;
  /** The least time between two progress reports of one job. Default 500 ms. */
  progressMs?: number;
  /** Signals that drain the worker. Default `['SIGTERM']`; `[]` leaves signals to the caller. */
  signals?: NodeJS.Signals[];
  logger?: Logger;
  onEvent?: (event: WorkerEvent) => void;
}

export type CreateWorkerOptions = WorkerOptions &
  (
    | {
        nats: NatsConnection;
        /** `LATTICE_NAMESPACE`, where one is set. */
        namespace?: string;
        /** Signs the worker's own service context: `ContextSigner.fromConfig(service, config)`. */
        signer: ContextSigner;
      }
    | { scheduler: SchedulerClient }
  );

/**
 * The runtime of a worker process: `createWorker({ nats, namespace, signer, queue,
 * concurrency, handlers })`, then `start()`. It registers with the scheduler, leases jobs of
 * its queue up to its concurrency, keeps their leases with heartbeats, runs each with an
 * AbortSignal, and reports how it ended. On SIGTERM (or `drain()`) it leases no more, lets the
 * jobs in hand finish within the grace period, and hands back the rest.
 */
export function createWorker(options: CreateWorkerOptions): Worker {
  const workerId = options.workerId ?? workerIdentity();
  const logger = options.logger ?? createLogger('worker');
  const scheduler =
    'scheduler' in options
      ? options.scheduler
      : new NatsSchedulerClient({
          nats: options.nats,
          namespace: options.namespace,
          signer: options.signer,
          workerId,
          logger,
        });
  return new Worker(scheduler, { ...options, workerId, logger });
}

interface Held {
  job: LeasedJob;
  controller: AbortController;
  leaseExpiresAt: number;
  done: Promise<void>;
  progress: ProgressReporter;
}

type Outcome =
  | { kind: 'returned'; result: JobResult | void }
  | { kind: 'threw'; error: unknown }
  | { kind: 'aborted'; reason: AbortReason };

const DEFAULT_GRACE_MS = 25_000;
const DEFAULT_POLL_MS = 2_000;
const DEFAULT_PROGRESS_MS = 500;
/** The most jobs one lease call asks for (the contract's bound). */
const LEASE_MAX = 100;
/** How long a report (complete, fail, hand back) is retried while the scheduler is away. */
const REPORT_PATIENCE_MS = 30_000;

export class Worker {
  readonly workerId: string;
  private state: 'new' | 'starting' | 'running' | 'draining' | 'stopped' = 'new';
  private readonly held = new Map<string, Held>();
  private readonly wakeup = new Wakeup();
  private readonly logger: Logger;
  private heartbeatMs = 10_000;
  /** The scheduler asked it to lease no more (its pool is being scaled in). */
  private schedulerDraining = false;
  private leasing?: Promise<void>;
  private heartbeating?: Promise<void>;
  private draining?: Promise<void>;
  private stopping?: Promise<void>;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly onSignal = () => {
    this.logger.info({ workerId: this.workerId }, 'draining on signal');
    void this.drain();
  };

  constructor(
    private readonly scheduler: SchedulerClient,
    private readonly options: WorkerOptions & { workerId: string; logger: Logger },
  ) {
    this.workerId = options.workerId;
    this.logger = options.logger;
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1)
      throw new Error('concurrency must be a whole number of at least 1');
  }

  /** Jobs it holds now. */
  get inFlight(): number {
    return this.held.size;
  }

  /** Registers and begins leasing; rejects when the queue does not exist. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`the worker is ${this.state}`);
    this.state = 'starting';
    const registered = await this.register();
    if (!registered) return;
    this.heartbeatMs =
      this.options.heartbeatMs ?? Math.max(250, (registered.leaseSeconds * 1000) / 3);
    this.unsubscribe.push(
      this.scheduler.onWorkReady((queue) => {
        if (queue === this.options.queue) this.wakeup.wake();
      }),
      this.scheduler.onCancelled((jobId, workerId) => {
        if (workerId === this.workerId) this.abort(jobId, 'cancelled');
      }),
    );
    for (const signal of this.options.signals ?? ['SIGTERM']) process.on(signal, this.onSignal);
    this.state = 'running';
    this.leasing = this.leaseLoop();
    this.heartbeating = this.heartbeatLoop();
  }

  /**
   * Leases no more, waits up to `graceMs` for the jobs in hand, then stops, handing back what
   * is left. Resolves once nothing is held.
   */
  drain(graceMs = this.options.graceMs ?? DEFAULT_GRACE_MS): Promise<void> {
    this.draining ??= (async () => {
      if (this.state === 'running' || this.state === 'starting') this.state = 'draining';
      this.wakeup.wake();
      await this.leasing;
      const finished = Promise.all([...this.held.values()].map((h) => h.done));
      const grace = new Wakeup();
      await Promise.race([finished.then(() => grace.wake()), grace.wait(graceMs)]);
      grace.wake();
      await this.stop();
    })();
    return this.draining;
  }

  /** Stops at once: the jobs in hand are aborted and handed back to their queue. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.state = 'stopped';
      this.wakeup.wake();
      for (const signal of this.options.signals ?? ['SIGTERM']) process.off(signal, this.onSignal);
      await this.leasing;
      for (const id of [...this.held.keys()]) this.abort(id, 'shutdown');
      await Promise.all([...this.held.values()].map((h) => h.done));
      this.heartbeatTimer?.wake();
      await this.heartbeating;
      for (const off of this.unsubscribe.splice(0)) off();
    })();
    return this.stopping;
  }

  private async register() {
    let failures = 0;
    for (;;) {
      try {
        return await this.scheduler.register({
          workerId: this.workerId,
          queue: this.options.queue,
          concurrency: this.options.concurrency,
        });
      } catch (error) {
        if (!transient(error)) {
          this.state = 'stopped';
          throw error;
        }
        if (this.state === 'stopped') return null;
        this.logger.warn({ err: error }, 'the scheduler is not answering; registering again');
        await this.wakeup.wait(backoff(++failures));
        if (this.state !== 'starting') return null;
      }
    }
  }

  private async leaseLoop(): Promise<void> {
    let failures = 0;
    let empty = 0;
    while (this.state === 'running') {
      const free = this.options.concurrency - this.held.size;
      if (free <= 0 || this.schedulerDraining) {
        await this.wakeup.wait(this.options.pollMs ?? DEFAULT_POLL_MS);
        continue;
      }
      let jobs: LeasedJob[];
      try {
        ({ jobs } = await this.scheduler.lease({
          workerId: this.workerId,
          queue: this.options.queue,
          max: Math.min(free, LEASE_MAX),
        }));
        failures = 0;
      } catch (error) {
        this.logger.warn({ err: error }, 'lease failed');
        if (isCode(error, ErrorCode.NotFound)) await this.reRegister();
        await this.wakeup.wait(backoff(++failures));
        continue;
      }
      for (const job of jobs) this.run(job);
      // an empty answer while work flowed is likely a race another worker won: ask again soon,
      // then less and less often, down to the poll interval of an idle queue
      empty = jobs.length === 0 ? empty + 1 : 0;
      if (empty > 0)
        await this.wakeup.wait(Math.min(this.options.pollMs ?? DEFAULT_POLL_MS, 25 * 2 ** empty));
    }
  }

  /** After the scheduler forgot the worker (it was not seen for long): it registers again. */
  private async reRegister(): Promise<void> {
    try {
      await this.scheduler.register({
        workerId: this.workerId,
        queue: this.options.queue,
        concurrency: this.options.concurrency,
      });
    } catch (error) {
      this.logger.warn({ err: error }, 'registering again failed');
    }
  }

  private async heartbeatLoop(): Promise<void> {
    while (this.state !== 'stopped' || this.held.size > 0) {
      await this.wakeupHeartbeat();
      if (this.state === 'stopped' && this.held.size === 0) return;
      const ids = [...this.held.keys()];
      const sentAt = Date.now();
      try {
        const reply = await this.scheduler.heartbeat({ workerId: this.workerId, jobIds: ids });
        const until = Date.parse(reply.leaseExpiresAt);
        // the scheduler's clock may differ: the lease is kept for as long as it says, from now
        const lease = until - sentAt;
        for (const id of reply.held) {
          const held = this.held.get(id);
          if (held) held.leaseExpiresAt = sentAt + lease;
        }
        for (const id of reply.stop) this.abort(id, 'revoked');
        if (reply.draining && !this.schedulerDraining) {
          this.logger.info('the scheduler asks this worker to lease no more');
        }
        this.schedulerDraining = reply.draining;
      } catch (error) {
        this.logger.warn({ err: error }, 'heartbeat failed');
        if (isCode(error, ErrorCode.NotFound)) await this.reRegister();
        const now = Date.now();
        for (const held of this.held.values())
          if (held.leaseExpiresAt <= now) this.abort(held.job.id, 'lease-lost');
      }
    }
  }

  private heartbeatTimer?: { wake: () => void };

  /** Waits one heartbeat period, or less when the worker stops holding anything. */
  private wakeupHeartbeat(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.heartbeatMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.heartbeatTimer = { wake: done };
    });
  }

  private abort(jobId: string, reason: AbortReason): void {
    const held = this.held.get(jobId);
    if (!held || held.controller.signal.aborted) return;
    held.controller.abort(new JobAbortedError(reason));
  }

  private run(job: LeasedJob): void {
    const controller = new AbortController();
    const held: Held = {
      job,
      controller,
      leaseExpiresAt: Date.parse(job.leaseExpiresAt ?? '') || Date.now() + this.heartbeatMs * 3,
      done: Promise.resolve(),
      progress: new ProgressReporter(
        (progress) => this.scheduler.progress({ workerId: this.workerId, jobId: job.id, progress }),
        {
          intervalMs: this.options.progressMs ?? DEFAULT_PROGRESS_MS,
          onError: (error) =>
            this.logger.warn({ err: error, jobId: job.id }, 'progress report not taken'),
        },
      ),
    };
    this.held.set(job.id, held);
    held.done = this.execute(held)
      .catch((error) => this.logger.error({ err: error, jobId: job.id }, 'job run failed'))
      .finally(() => {
        this.held.delete(job.id);
        this.wakeup.wake();
        if (this.state === 'stopped' && this.held.size === 0) this.heartbeatTimer?.wake();
      });
  }

  private async execute(held: Held): Promise<void> {
    const { job, controller } = held;
    const { signal } = controller;
    if (this.state !== 'running') controller.abort(new JobAbortedError('shutdown'));
    const timeout = setTimeout(
      () => controller.abort(new JobAbortedError('timeout')),
      job.timeoutSeconds * 1000,
    );
    try {
      if (signal.aborted) held.progress.close();
      else {
        const started = await this.report(held, ['running'], () =>
          this.scheduler.start({ workerId: this.workerId, jobId: job.id }),
        );
        if (!started) {
          held.progress.close();
          return this.emit({ type: 'stopped', job, reason: 'revoked' });
        }
      }
      const outcome = await this.outcomeOf(held);
      await this.settle(held, outcome);
    } finally {
      clearTimeout(timeout);
      held.progress.close();
    }
  }

  /** The handler's outcome, or the abort that came first. */
  private async outcomeOf(held: Held): Promise<Outcome> {
    const { job, controller } = held;
    const { signal } = controller;
    const aborted = new Promise<Outcome>((resolve) => {
      const onAbort = () => resolve({ kind: 'aborted', reason: abortReason(signal) });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    if (signal.aborted) return aborted;
    const handler = this.options.handlers[job.type];
    const context: JobContext = {
      signal,
      attempt: job.attempts,
      workerId: this.workerId,
      reportProgress: (progress) => {
        const parsed = JobProgress.safeParse(progress);
        if (!parsed.success)
          throw new DomainError(ErrorCode.ValidationFailed, 'the progress report is not valid', {
            issues: parsed.error.issues.map((i) => ({
              path: i.path.join('.'),
              message: i.message,
            })),
          });
        held.progress.report(parsed.data);
      },
    };
    const ran: Promise<Outcome> = handler
      ? Promise.resolve()
          .then(() => handler(job, context))
          .then(
            (result): Outcome => ({ kind: 'returned', result }),
            (error: unknown): Outcome => ({ kind: 'threw', error }),
          )
      : Promise.resolve({
          kind: 'threw',
          error: new PermanentJobError(`no handler for jobs of type ${job.type}`),
        });
    const outcome = await Promise.race([ran, aborted]);
    // a handler that returned after its signal fired is answered as the signal says
    return signal.aborted ? { kind: 'aborted', reason: abortReason(signal) } : outcome;
  }

  private async settle(held: Held, outcome: Outcome): Promise<void> {
    const { job } = held;
    const workerId = this.workerId;
    const stillHeld =
      outcome.kind !== 'aborted' || ['timeout', 'shutdown'].includes(outcome.reason);
    // the last progress goes before the end is reported; a job no longer held reports none
    if (stillHeld) await held.progress.flush();
    else held.progress.close();
    switch (outcome.kind) {
      case 'returned': {
        const result = outcome.result ?? undefined;
        const ok = await this.report(held, ['succeeded'], () =>
          this.scheduler.complete({ workerId, jobId: job.id, ...(result ? { result } : {}) }),
        );
        return this.emit(
          ok ? { type: 'completed', job } : { type: 'stopped', job, reason: 'revoked' },
        );
      }
      case 'threw': {
        const retryable = !(outcome.error instanceof PermanentJobError);
        return this.failed(held, errorText(outcome.error), retryable);
      }
      case 'aborted':
        switch (outcome.reason) {
          case 'timeout':
            return this.failed(held, 'the job ran past its timeout', true);
          case 'shutdown': {
            const ok = await this.report(held, ['queued'], () =>
              this.scheduler.release({ workerId, jobId: job.id, reason: 'its worker stopped' }),
            );
            return this.emit(
              ok ? { type: 'released', job } : { type: 'stopped', job, reason: 'revoked' },
            );
          }
          case 'cancelled':
          case 'revoked':
          case 'lease-lost':
            // the job is no longer this worker's to report on
            return this.emit({ type: 'stopped', job, reason: outcome.reason });
        }
    }
  }

  private async failed(held: Held, error: string, retryable: boolean): Promise<void> {
    const { job } = held;
    const ok = await this.report(held, retryable ? ['queued', 'dead'] : ['failed'], () =>
      this.scheduler.fail({ workerId: this.workerId, jobId: job.id, error, retryable }),
    );
    this.emit(
      ok ? { type: 'failed', job, error, retryable } : { type: 'stopped', job, reason: 'revoked' },
    );
  }

  /**
   * Makes a report, retrying while the scheduler is away (a replica restarting). False when the
   * job is no longer the worker's (cancelled, or its lease went to another); a retry that finds
   * its first try went through counts as done.
   */
  private async report(
    held: Held,
    wanted: readonly JobState[],
    call: () => Promise<unknown>,
  ): Promise<boolean> {
    const giveUpAt = Date.now() + REPORT_PATIENCE_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        await call();
        return true;
      } catch (error) {
        if (isCode(error, ErrorCode.InvalidState) || isCode(error, ErrorCode.NotFound)) {
          // after a try that timed out, the job may have moved on because of that very try
          return attempt > 1 && wanted.includes(stateIn(error) as JobState);
        }
        if (!transient(error) || Date.now() >= giveUpAt) {
          this.logger.warn(
            { err: error, jobId: held.job.id },
            'report failed; the lease will lapse',
          );
          return false;
        }
        await sleep(backoff(attempt));
      }
    }
  }

  private emit(event: WorkerEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch (error) {
      this.logger.warn({ err: error }, 'a worker event listener threw');
    }
  }
}

function abortReason(signal: AbortSignal): AbortReason {
  return signal.reason instanceof JobAbortedError ? signal.reason.reason : 'shutdown';
}

function isCode(error: unknown, code: ErrorCode): boolean {
  return error instanceof DomainError && error.code === code;
}

/** The scheduler did not answer (restarting, or the bus is away): worth another try. */
function transient(error: unknown): boolean {
  return isCode(error, ErrorCode.Unavailable) || isCode(error, ErrorCode.Timeout);
}

/** The state a refused report found the job in. */
function stateIn(error: unknown): unknown {
  return error instanceof DomainError ? error.details?.state : undefined;
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, 2000) || 'the handler failed';
}
