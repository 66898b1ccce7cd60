import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER, PeriodicJob } from '@lattice/service-runtime';
import { RetentionService } from './retention.service';

export const RETENTION_INTERVAL_MS = Symbol('RETENTION_INTERVAL_MS');

/** Applies retention to every tenant's trail at a fixed interval. */
@Injectable()
export class RetentionJob extends PeriodicJob {
  constructor(
    private readonly retention: RetentionService,
    @Inject(LOGGER) logger: Logger,
    @Inject(RETENTION_INTERVAL_MS) intervalMs: number,
  ) {
    super({ intervalMs, logger, failure: 'audit retention failed; will retry' });
  }

  protected run(): Promise<unknown> {
    return this.retention.applyAll();
  }
}
