import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { Periodic } from '../periodic';
import { RetentionService } from './retention.service';

export const RETENTION_INTERVAL_MS = Symbol('RETENTION_INTERVAL_MS');

/** Applies retention to every tenant's trail at a fixed interval. */
@Injectable()
export class RetentionJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly periodic: Periodic;

  constructor(retention: RetentionService, @Inject(RETENTION_INTERVAL_MS) intervalMs: number) {
    this.periodic = new Periodic(intervalMs, async () => {
      await retention.applyAll();
    });
  }

  onApplicationBootstrap(): void {
    this.periodic.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.periodic.stop();
  }
}
