import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';

export interface PeriodicOptions {
  intervalMs: number;
  /** Where a failed run is reported; the next one runs at its time all the same. */
  logger: Logger;
  /** The line a failed run is logged with. */
  failure: string;
}

/**
 * Runs work at a fixed interval, never two runs at once (a tick that finds the last run still
 * going is skipped); stopping waits for the run in hand.
 */
export class Periodic {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly options: PeriodicOptions,
    private readonly work: () => Promise<unknown>,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.running ??= this.work()
        .then(
          () => undefined,
          (error: unknown) => this.options.logger.error({ err: error }, this.options.failure),
        )
        .finally(() => (this.running = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** No run starts after this; resolves once the one in hand, if any, has finished. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

/**
 * A job a Nest module provides: its `run` is repeated from application bootstrap until
 * shutdown, where it stops before connections close, waiting for a run in hand.
 */
export abstract class PeriodicJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly periodic: Periodic;

  protected constructor(options: PeriodicOptions) {
    this.periodic = new Periodic(options, () => this.run());
  }

  /** One run of the job. */
  protected abstract run(): Promise<unknown>;

  onApplicationBootstrap(): void | Promise<void> {
    this.periodic.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.periodic.stop();
  }
}
