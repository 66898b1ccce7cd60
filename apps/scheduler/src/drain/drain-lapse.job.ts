import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER, PeriodicJob } from '@lattice/service-runtime';
import { LEASE_SWEEP_INTERVAL_MS } from '../dispatch/lease-expiry.job';
import { DrainService } from './drain.service';

/** Puts workers whose drain ran out (their pods were not removed) back to work. */
@Injectable()
export class DrainLapseJob extends PeriodicJob {
  constructor(
    private readonly drains: DrainService,
    @Inject(LOGGER) logger: Logger,
    @Inject(LEASE_SWEEP_INTERVAL_MS) intervalMs: number,
  ) {
    super({ intervalMs, logger, failure: 'drain lapse sweep failed; will retry' });
  }

  protected run(): Promise<number> {
    return this.drains.lapse();
  }
}
