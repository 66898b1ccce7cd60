import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Subscription } from 'nats';
import type { Logger } from 'pino';
import { GpuAgentHeartbeat } from '@lattice/contracts';
import { EventBus } from '@lattice/messaging';
import { LOGGER } from '@lattice/service-runtime';
import { NodeHealthService } from './node-health.service';

/** The queue group the replicas share heartbeats in: each heartbeat is handled once. */
export const HEARTBEAT_QUEUE = 'gpu-nodes';

/** Hears the agents' heartbeats, shared among the service's replicas. */
@Injectable()
export class HeartbeatListener implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private subscription?: Subscription;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly events: EventBus,
    private readonly health: NodeHealthService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.subscription = this.events.subscribe(
      GpuAgentHeartbeat,
      (heartbeat) => {
        const work = this.health.heartbeat(heartbeat).then(
          () => undefined,
          (error: unknown) => {
            this.logger.error({ err: error, node: heartbeat.node }, 'heartbeat not recorded');
          },
        );
        this.inFlight.add(work);
        void work.finally(() => this.inFlight.delete(work));
        return work;
      },
      { queue: HEARTBEAT_QUEUE },
    );
  }

  /** Stops hearing heartbeats and lets those in hand finish. */
  async beforeApplicationShutdown(): Promise<void> {
    this.subscription?.unsubscribe();
    await Promise.all([...this.inFlight]);
  }
}
