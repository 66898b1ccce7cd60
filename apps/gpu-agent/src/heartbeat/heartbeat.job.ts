import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { LOGGER, Periodic } from '@lattice/service-runtime';
import type { Logger } from 'pino';
import { HeartbeatService } from './heartbeat.service';

export const HEARTBEAT_INTERVAL_MS = Symbol('HEARTBEAT_INTERVAL_MS');

/** Beats once at start (so the node registers at once), then every interval until shutdown. */
@Injectable()
export class HeartbeatJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly periodic: Periodic;
  private first?: Promise<unknown>;

  constructor(
    private readonly heartbeats: HeartbeatService,
    @Inject(HEARTBEAT_INTERVAL_MS) intervalMs: number,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.periodic = new Periodic({ intervalMs, logger, failure: 'GPU heartbeat failed' }, () =>
      this.heartbeats.beat(),
    );
  }

  onApplicationBootstrap(): void {
    this.first = this.heartbeats.beat();
    this.periodic.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.first;
    await this.periodic.stop();
  }
}
