import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import { Periodic, PeriodicJob } from './periodic';

const INTERVAL_MS = 1_000;

/** A run the test finishes when it chooses. */
class Runs {
  started = 0;
  private finishers: { resolve(): void; reject(error: Error): void }[] = [];

  readonly work = (): Promise<void> => {
    this.started++;
    return new Promise<void>((resolve, reject) => this.finishers.push({ resolve, reject }));
  };

  finish(): void {
    this.finishers.shift()!.resolve();
  }

  fail(error: Error): void {
    this.finishers.shift()!.reject(error);
  }
}

const logger = () => ({ error: jest.fn() }) as unknown as Logger & { error: jest.Mock };

/** A periodic job over runs the test finishes, started. */
const started = ({
  logger: log = logger(),
  failure = 'x',
}: { logger?: Logger; failure?: string } = {}) => {
  const runs = new Runs();
  const periodic = new Periodic({ intervalMs: INTERVAL_MS, logger: log, failure }, runs.work);
  periodic.start();
  return { runs, periodic };
};

/** Lets promise callbacks that are already due run. */
const settle = () => jest.advanceTimersByTimeAsync(0);

describe(Periodic.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs the work once per interval, from the first interval on', async () => {
    const { runs, periodic } = started();
    await jest.advanceTimersByTimeAsync(INTERVAL_MS - 1);
    expect(runs.started).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(runs.started).toBe(1);
    runs.finish();
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(runs.started).toBe(2);
    runs.finish();
    await periodic.stop();
  });

  it('never starts a run while the last one is still going', async () => {
    const { runs, periodic } = started();
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(runs.started).toBe(1);
    // three ticks pass while the first run is in hand
    await jest.advanceTimersByTimeAsync(3 * INTERVAL_MS);
    expect(runs.started).toBe(1);
    runs.finish();
    await settle();
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(runs.started).toBe(2);
    runs.finish();
    await periodic.stop();
  });

  it('stops only once the run in hand has finished, and starts none after', async () => {
    const { runs, periodic } = started();
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    let stopped = false;
    const stopping = periodic.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    runs.finish();
    await stopping;
    expect(stopped).toBe(true);
    await jest.advanceTimersByTimeAsync(5 * INTERVAL_MS);
    expect(runs.started).toBe(1);
  });

  it('stops at once when no run is in hand', async () => {
    const { runs, periodic } = started();
    await periodic.stop();
    await jest.advanceTimersByTimeAsync(5 * INTERVAL_MS);
    expect(runs.started).toBe(0);
  });

  it('logs a failed run and runs again at the next interval', async () => {
    const log = logger();
    const { runs, periodic } = started({ logger: log, failure: 'purge failed; will retry' });
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    const error = new Error('database away');
    runs.fail(error);
    await settle();
    expect(log.error).toHaveBeenCalledWith({ err: error }, 'purge failed; will retry');
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(runs.started).toBe(2);
    runs.finish();
    await periodic.stop();
  });

  it('keeps one timer when started twice', async () => {
    const { runs, periodic } = started();
    periodic.start(); // a second time
    await periodic.stop();
    await jest.advanceTimersByTimeAsync(5 * INTERVAL_MS);
    expect(runs.started).toBe(0);
  });
});

describe(PeriodicJob.name, () => {
  const runs = new Runs();

  @Injectable()
  class SweepJob extends PeriodicJob {
    constructor() {
      super({ intervalMs: INTERVAL_MS, logger: logger(), failure: 'sweep failed' });
    }

    protected run(): Promise<void> {
      return runs.work();
    }
  }

  @Module({ providers: [SweepJob] })
  class SweepModule {}

  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs once the application has bootstrapped, and its shutdown waits for the run in hand', async () => {
    const app = await NestFactory.createApplicationContext(SweepModule, { logger: false });
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(runs.started).toBe(1);

    let closed = false;
    const closing = app.close().then(() => (closed = true));
    await settle();
    expect(closed).toBe(false);
    runs.finish();
    await closing;
    await jest.advanceTimersByTimeAsync(5 * INTERVAL_MS);
    expect(runs.started).toBe(1);
  });
});
