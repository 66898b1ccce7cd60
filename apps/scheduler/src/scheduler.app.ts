import { Module, type INestApplication } from '@nestjs/common';
import { JobEventsStream, UsageStream } from '@lattice/contracts';
import type { ServiceDatabaseOptions } from '@lattice/database';
import type { Logger } from '@lattice/logging';
import {
  SubjectNamespace,
  connectNats,
  ensureAuditStream,
  ensureStream,
  natsCredentials,
} from '@lattice/messaging';
import { ContextSigner } from '@lattice/request-context';
import {
  RuntimeModule,
  defineService,
  listenService,
  openServiceDatabase,
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
  const dataSource = await openServiceDatabase(schedulerDatabase(config), logger, options);

  const ns = new SubjectNamespace(config.LATTICE_NAMESPACE);
  const credentials = natsCredentials(config);
  const signer = ContextSigner.fromConfig('scheduler', config);
  const nats = await connectNats(config.NATS_URL, 'lattice-scheduler', credentials);
  await ensureAuditStream(nats, ns);
  await ensureStream(nats, ns, JobEventsStream, { max_age: 7 * 24 * 3600 * 1_000_000_000 });
  // the tenants service counts it; the scheduler publishes GPU-seconds to it
  await ensureStream(nats, ns, UsageStream, { max_age: 30 * 24 * 3600 * 1_000_000_000 });

  @Module({
    imports: [
      RuntimeModule.forRoot({
        service: 'scheduler',
        nats,
        logger,
        namespace: config.LATTICE_NAMESPACE,
        signer,
        auditRecorder: true,
      }),
      SchedulerModule.forRoot(config, dataSource, options),
    ],
  })
  class SchedulerAppModule {}

  return listenService(SchedulerAppModule, {
    service: 'scheduler',
    natsUrl: config.NATS_URL,
    natsCredentials: credentials,
    namespace: config.LATTICE_NAMESPACE,
    logger,
    port: config.SCHEDULER_HTTP_PORT,
    host: config.LATTICE_BIND_HOST,
  });
}

export const schedulerService = defineService({
  name: 'scheduler',
  config: schedulerConfigSpec,
  database: schedulerDatabase,
  create: (config, logger, { migrate }) => createSchedulerApp(config, logger, { migrate }),
  started: (config) => ({ port: config.SCHEDULER_HTTP_PORT }),
});
