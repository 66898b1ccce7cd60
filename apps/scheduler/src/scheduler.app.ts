import type { INestApplication } from '@nestjs/common';
import { JobEventsStream, UsageStream } from '@lattice/contracts';
import type { ServiceDatabaseOptions } from '@lattice/database';
import type { Logger } from '@lattice/logging';
import { ensureAuditStream, ensureStream } from '@lattice/messaging';
import {
  createServiceApp,
  defineService,
  type Clock,
  type ServiceDatabaseConfig,
} from '@lattice/service-runtime';
import { SchedulerModule } from './scheduler.module';
import { schedulerConfigSpec, type SchedulerConfig } from './scheduler.config';
import { schedulerMigrations } from '../migrations';
import type { Random } from './dispatch/retry-backoff';

export function schedulerDatabase(config: ServiceDatabaseConfig): ServiceDatabaseOptions {
  return {
    adminUrl: config.DATABASE_URL,
    appPassword: config.DATABASE_APP_PASSWORD,
    schema: 'scheduler',
    entities: [],
    migrations: schedulerMigrations,
    poolSize: config.DATABASE_POOL_SIZE,
  };
}

export interface SchedulerAppOptions {
  /** Run migrations before starting (the launcher and tests do; a chart runs them as a Job). */
  migrate?: boolean;
  clock?: Clock;
  /** The source of back-off jitter, in [0, 1). */
  random?: Random;
}

/**
 * The scheduler service: queues, jobs and their workers over NATS, the lease sweeper and the
 * JOB_EVENTS relay, plus an HTTP listener for health and metrics. Returned listening.
 */
export async function createSchedulerApp(
  config: SchedulerConfig,
  logger: Logger,
  options: SchedulerAppOptions = {},
): Promise<INestApplication> {
  return createServiceApp({
    service: 'scheduler',
    config,
    logger,
    database: schedulerDatabase(config),
    migrate: options.migrate,
    streams: [
      ensureAuditStream,
      (nats, ns) =>
        ensureStream(nats, ns, JobEventsStream, { max_age: 7 * 24 * 3600 * 1_000_000_000 }),
      // the tenants service counts it; the scheduler publishes GPU-seconds to it
      (nats, ns) =>
        ensureStream(nats, ns, UsageStream, { max_age: 30 * 24 * 3600 * 1_000_000_000 }),
    ],
    auditRecorder: true,
    http: { port: config.SCHEDULER_HTTP_PORT, host: config.LATTICE_BIND_HOST },
    module: (dataSource) => SchedulerModule.forRoot(config, dataSource, options),
  });
}

export const schedulerService = defineService({
  name: 'scheduler',
  config: schedulerConfigSpec,
  database: schedulerDatabase,
  create: (config, logger, { migrate }) => createSchedulerApp(config, logger, { migrate }),
  started: (config) => ({ port: config.SCHEDULER_HTTP_PORT }),
});
