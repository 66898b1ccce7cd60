import { Global, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import { periodicJob } from './periodic';
import { LOGGER } from './tokens';

const INTERVAL_MS = 1_000;

@Injectable()
class Sweeper {
  swept = 0;
  failing?: Error;

  sweep(): Promise<void> {
    this.swept++;
    return this.failing ? Promise.reject(this.failing) : Promise.resolve();
  }
}

const logger = { error: jest.fn() };

@Global()
@Module({
  providers: [{ provide: LOGGER, useValue: logger as unknown as Logger }],
  exports: [LOGGER],
})
class LoggerModule {}

@Module({
  imports: [LoggerModule],
  providers: [
    Sweeper,
    periodicJob({
      name: 'SweepJob',
      intervalMs: INTERVAL_MS,
      failure: 'sweep failed',
      inject: [Sweeper],
      run: (sweeper) => sweeper.sweep(),
    }),
  ],
})
class SweepModule {}

describe(periodicJob.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('calls its run on what it injects once per interval from bootstrap, until shutdown', async () => {
    const app = await NestFactory.createApplicationContext(SweepModule, { logger: false });
    const sweeper = app.get(Sweeper);
    expect(sweeper.swept).toBe(0);
    await jest.advanceTimersByTimeAsync(2 * INTERVAL_MS);
    expect(sweeper.swept).toBe(2);

    await app.close();
    await jest.advanceTimersByTimeAsync(5 * INTERVAL_MS);
    expect(sweeper.swept).toBe(2);
  });

  it("logs a failed run with the service's logger, and runs again at the next interval", async () => {
    const app = await NestFactory.createApplicationContext(SweepModule, { logger: false });
    const sweeper = app.get(Sweeper);
    const error = new Error('disk full');
    sweeper.failing = error;
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(logger.error).toHaveBeenCalledWith({ err: error }, 'sweep failed');

    sweeper.failing = undefined;
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(sweeper.swept).toBe(2);
    await app.close();
  });
});
