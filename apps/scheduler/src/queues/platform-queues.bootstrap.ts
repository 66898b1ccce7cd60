import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import type { CreateQueueRequest } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { Clock, LOGGER } from '@lattice/service-runtime';
import { QueueRepository } from './queue.repository';

export const PLATFORM_QUEUE_DECLARATIONS = Symbol('PLATFORM_QUEUE_DECLARATIONS');

/**
 * Declares the queues the platform's own workers lease from (`PLATFORM_QUEUES` of the contracts)
 * before the
 * scheduler takes calls, so those workers register without an operator's help. A queue that
 * exists is left alone: its limits may be an operator's.
 */
@Injectable()
export class PlatformQueuesBootstrap implements OnApplicationBootstrap {
  constructor(
    private readonly scope: TenantScope,
    private readonly queues: QueueRepository,
    private readonly clock: Clock,
    @Inject(PLATFORM_QUEUE_DECLARATIONS) private readonly declared: readonly CreateQueueRequest[],
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.declared.length === 0) return;
    const created = await this.scope.runAsPlatform(async (em) => {
      const names: string[] = [];
      for (const queue of this.declared) {
        const row = await this.queues.insert(em, {
          name: queue.name,
          description: queue.description ?? null,
          workerPool: queue.workerPool,
          maxTenantShare: queue.maxTenantShare,
          defaultTimeoutSeconds: queue.defaultTimeoutSeconds,
          defaultMaxAttempts: queue.defaultMaxAttempts,
          gpusPerJob: queue.gpusPerJob,
          createdAt: this.clock.now(),
        });
        if (row) names.push(row.name);
      }
      return names;
    });
    if (created.length > 0) this.logger.info({ queues: created }, 'declared the platform queues');
  }
}
