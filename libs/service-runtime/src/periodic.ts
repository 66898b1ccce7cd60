import type {
  BeforeApplicationShutdown,
  OnApplicationBootstrap,
  Provider,
  Type,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from './tokens';

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

/** A job run by one call on what it is given. */
class CallJob extends PeriodicJob {
  constructor(
    options: PeriodicOptions,
    private readonly work: () => Promise<unknown>,
  ) {
    super(options);
  }

  protected run(): Promise<unknown> {
    return this.work();
  }
}

export interface PeriodicJobOptions<D extends unknown[]> extends Omit<PeriodicOptions, 'logger'> {
  /** The job's name in the module (its provider token). */
  name: string;
  /** What its run is given, in order. */
  inject: { [K in keyof D]: Type<D[K]> };
  run(...deps: D): Promise<unknown>;
}

/**
 * A `PeriodicJob` whose run is one call on the module's own providers, failures logged with the
 * service's logger: `periodicJob({ name, inject: [ChainService], run: (chain) => ... })`.
 */
export function periodicJob<D extends unknown[]>(options: PeriodicJobOptions<D>): Provider {
  const { name, inject, run, ...periodic } = options;
  return {
    provide: name,
    inject: [LOGGER, ...inject],
    useFactory: (logger: Logger, ...deps: D) =>
      new CallJob({ ...periodic, logger }, () => run(...deps)),
  };
}
