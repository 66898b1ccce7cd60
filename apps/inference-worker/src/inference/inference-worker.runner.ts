import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { DomainError, ErrorCode } from '@lattice/contracts';
import type { Logger } from '@lattice/logging';
import type { HealthRegistry } from '@lattice/service-runtime';
import { createWorker, type CreateWorkerOptions, type Worker } from '@lattice/worker';

/** How long it waits before registering again on a queue that does not exist yet. */
const QUEUE_MISSING_RETRY_MS = 5_000;

/**
 * Runs the `libs/worker` runtime inside the service: registers on its queue at start (again
 * every few seconds while the queue does not exist yet: platform operators declare it, and
 * `npm start` may get there after the worker), reports `scheduler` not ready until then, and
 * drains before the NATS connection closes.
 */
export class InferenceWorkerRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private worker: Worker | null = null;
  private stopped = false;
  private waiting: NodeJS.Timeout | undefined;
  private problem = 'starting';
  private starting?: Promise<void>;

  constructor(
    private readonly options: CreateWorkerOptions,
    private readonly logger: Logger,
    health: HealthRegistry,
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
    await this.starting;
    await this.worker?.drain();
  }

  private async start(): Promise<void> {
    while (!this.stopped) {
      const worker = createWorker(this.options);
      try {
        await worker.start();
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
        this.logger.warn(
          { err: error, queue: this.options.queue },
          missing
            ? 'the queue does not exist yet (platform operators create it); trying again'
            : 'registering with the scheduler failed; trying again',
        );
        await new Promise<void>((resolve) => {
          this.waiting = setTimeout(resolve, QUEUE_MISSING_RETRY_MS);
        });
      }
    }
  }
}
