import { Module, type DynamicModule } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { CursorCodec } from '@lattice/database';
import { PLATFORM_QUEUES } from '@lattice/contracts';
import { deriveKey } from '@lattice/secrets';
import {
  Clock,
  SystemClock,
  databaseProviders,
  usageOutboxProvider,
} from '@lattice/service-runtime';
import { DispatchHandlers } from './dispatch/dispatch.handlers';
import { DispatchRepository } from './dispatch/dispatch.repository';
import {
  DISPATCH_SETTINGS,
  DispatchService,
  type DispatchSettings,
} from './dispatch/dispatch.service';
import { LEASE_SWEEP_INTERVAL_MS, LeaseExpiryJob } from './dispatch/lease-expiry.job';
import { DrainLapseJob } from './drain/drain-lapse.job';
import { DrainHandlers } from './drain/drain.handlers';
import { DrainRepository } from './drain/drain.repository';
import { DrainService } from './drain/drain.service';
import type { Random } from './dispatch/retry-backoff';
import { JobOutbox } from './events/job-outbox';
import { OutboxRepository } from './events/outbox.repository';
import { JobMetering } from './metering/job-metering';
import { DEFAULT_AGING_MS } from './fair-share/fair-share';
import { JobHandlers } from './jobs/job.handlers';
import { JobRepository } from './jobs/job.repository';
import { AGING_MS, JobService } from './jobs/job.service';
import { JobTransitions } from './jobs/job-transitions';
import { PLAN_CACHE_MS, PlanDirectory } from './plans/plan-directory';
import {
  PLATFORM_QUEUE_DECLARATIONS,
  PlatformQueuesBootstrap,
} from './queues/platform-queues.bootstrap';
import { QueueHandlers } from './queues/queue.handlers';
import { QueueRepository } from './queues/queue.repository';
import { QueueService } from './queues/queue.service';
import { WorkerRepository } from './workers/worker.repository';
import type { SchedulerConfig } from './scheduler.config';

@Module({})
export class SchedulerModule {
  static forRoot(
    config: SchedulerConfig,
    dataSource: DataSource,
    options: { clock?: Clock; random?: Random } = {},
  ): DynamicModule {
    const settings: DispatchSettings = {
      leaseMs: config.SCHEDULER_LEASE_SECONDS * 1000,
      retryBaseMs: config.SCHEDULER_RETRY_BASE_SECONDS * 1000,
      retryMaxMs: config.SCHEDULER_RETRY_MAX_SECONDS * 1000,
      agingMs: DEFAULT_AGING_MS,
      random: options.random ?? Math.random,
    };
    return {
      module: SchedulerModule,
      controllers: [QueueHandlers, JobHandlers, DispatchHandlers, DrainHandlers],
      providers: [
        ...databaseProviders(dataSource),
        {
          provide: CursorCodec,
          useValue: new CursorCodec(deriveKey(config.LATTICE_INTERNAL_SECRET, 'cursor')),
        },
        { provide: Clock, useValue: options.clock ?? new SystemClock() },
        { provide: DISPATCH_SETTINGS, useValue: settings },
        { provide: AGING_MS, useValue: settings.agingMs },
        { provide: PLAN_CACHE_MS, useValue: config.SCHEDULER_PLAN_CACHE_SECONDS * 1000 },
        { provide: LEASE_SWEEP_INTERVAL_MS, useValue: config.SCHEDULER_LEASE_SWEEP_SECONDS * 1000 },
        QueueRepository,
        QueueService,
        {
          provide: PLATFORM_QUEUE_DECLARATIONS,
          useValue: config.SCHEDULER_PLATFORM_QUEUES ? PLATFORM_QUEUES : [],
        },
        PlatformQueuesBootstrap,
        JobRepository,
        JobTransitions,
        JobService,
        WorkerRepository,
        DispatchRepository,
        DispatchService,
        LeaseExpiryJob,
        DrainRepository,
        DrainService,
        DrainLapseJob,
        PlanDirectory,
        OutboxRepository,
        JobOutbox,
        // the GPU-seconds of each run, relayed to USAGE
        usageOutboxProvider({ schema: 'scheduler', table: 'usage_outbox' }),
        JobMetering,
      ],
      exports: [QueueService, JobService, DispatchService, DrainService, JobOutbox, LeaseExpiryJob],
    };
  }
}
