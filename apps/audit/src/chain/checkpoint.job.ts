import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '@lattice/service-runtime';
import { Periodic } from '../periodic';
import { ChainService } from './chain.service';

export const CHECKPOINT_INTERVAL_MS = Symbol('CHECKPOINT_INTERVAL_MS');

/** Signs a checkpoint of every chain that grew, at a fixed interval. */
@Injectable()
export class CheckpointJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly periodic: Periodic;

  constructor(
    chain: ChainService,
    @Inject(LOGGER) logger: Logger,
    @Inject(CHECKPOINT_INTERVAL_MS) intervalMs: number,
  ) {
    this.periodic = new Periodic(intervalMs, async () => {
      await chain
        .checkpointAll()
        .catch((error) => logger.error({ err: error }, 'checkpointing failed; will retry'));
    });
  }

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.periodic.stop();
  }
}
