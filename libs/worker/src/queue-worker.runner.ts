import { DomainError, ErrorCode } from '@lattice/contracts';
import type { Logger } from '@lattice/logging';
import { createWorker, type CreateWorkerOptions, type Worker } from './worker';

/** Where the runner reports whether it serves its queue (the service's `/readyz`). */
export interface ReadinessChecks {
  register(name: string, check: () => Promise<void>): void;
}

/** How long it waits before registering again on a queue that does not exist yet. */
const QUEUE_MISSING_RETRY_MS = 5_000;

/**
 * Runs the worker runtime inside a Nest service (its lifecycle hooks): registers on its queue
 * at start (again every few seconds while the scheduler is not there yet or the queue does
 * not exist yet: the scheduler declares the platform's queues when it starts, and `npm start`
 * may start the worker first), reports `scheduler` not ready until then, and drains before the
 * NATS connection closes.
 */
export class QueueWorkerRunner {
  private worker: Worker | null = null;
  /** The worker trying to register, stopped should the service stop first. */
  private registering: Worker | null = null;
  private stopped = false;
  private waiting: NodeJS.Timeout | undefined;
  private wake?: () => void;
  private problem = 'registering with the scheduler';
  private starting?: Promise<void>;

  constructor(
    private readonly options: CreateWorkerOptions,
    private readonly logger: Logger,
    health: ReadinessChecks,
  ) {
    health.register('scheduler', async () => {
      if (!this.worker) throw new Error(this.problem);
    });
  }

  /** The worker once it registered, for tests. */
  get current(): Worker | null {
    return this.worker;
  }

  onApplicationBootstrap(): void {
    this.starting = this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.waiting);
    this.wake?.();
    await this.registering?.stop();
    await this.starting;
    await this.worker?.drain();
  }

  private async start(): Promise<void> {
    let tries = 0;
    while (!this.stopped) {
      const worker = createWorker(this.options);
      this.registering = worker;
      try {
        await worker.start();
        this.registering = null;
        if (this.stopped) {
          await worker.stop();
          return;
        }
        this.worker = worker;
        this.logger.info(
          { queue: this.options.queue, workerId: worker.workerId },
          'serving the queue',
        );
        return;
      } catch (error) {
        const missing = error instanceof DomainError && error.code === ErrorCode.NotFound;
        this.problem = missing
          ? `the queue ${this.options.queue} does not exist`
          : `registering failed: ${(error as Error).message}`;
        // told once, then quietly: a queue created later is the normal course in `npm start`
        const level = tries++ === 0 ? 'warn' : 'debug';
        this.logger[level](
          { err: error, queue: this.options.queue },
          missing
            ? 'the queue does not exist yet (the scheduler declares it); trying again'
            : 'registering with the scheduler failed; trying again',
        );
        this.registering = null;
        if (this.stopped) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.waiting = setTimeout(resolve, QUEUE_MISSING_RETRY_MS);
        });
      }
    }
  }
}
