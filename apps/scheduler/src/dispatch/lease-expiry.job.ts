import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER, PeriodicJob } from '@lattice/service-runtime';
import { DispatchService } from './dispatch.service';

export const LEASE_SWEEP_INTERVAL_MS = Symbol('LEASE_SWEEP_INTERVAL_MS');

/** Returns the jobs of workers that stopped heartbeating to their queues, on every replica. */
@Injectable()
export class LeaseExpiryJob extends PeriodicJob {
  constructor(
    private readonly dispatch: DispatchService,
    @Inject(LOGGER) logger: Logger,
    @Inject(LEASE_SWEEP_INTERVAL_MS) intervalMs: number,
  ) {
    super({ intervalMs, logger, failure: 'lease expiry sweep failed; will retry' });
  }

  protected run(): Promise<number> {
    return this.dispatch.expireLeases();
  }
}
