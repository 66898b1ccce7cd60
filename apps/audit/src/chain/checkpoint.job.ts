import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER, PeriodicJob } from '@lattice/service-runtime';
import { ChainService } from './chain.service';

export const CHECKPOINT_INTERVAL_MS = Symbol('CHECKPOINT_INTERVAL_MS');

/** Signs a checkpoint of every chain that grew, at a fixed interval. */
@Injectable()
export class CheckpointJob extends PeriodicJob {
  constructor(
    private readonly chain: ChainService,
    @Inject(LOGGER) logger: Logger,
    @Inject(CHECKPOINT_INTERVAL_MS) intervalMs: number,
  ) {
    super({ intervalMs, logger, failure: 'checkpointing failed; will retry' });
  }

  protected run(): Promise<unknown> {
    return this.chain.checkpointAll();
  }
}
