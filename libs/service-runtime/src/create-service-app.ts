import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { DataSource } from 'typeorm';
import type { ServiceDatabaseOptions } from '@lattice/database';
import type { Logger } from '@lattice/logging';
import { SubjectNamespace, connectNats, natsCredentials } from '@lattice/messaging';
import { ContextSigner } from '@lattice/request-context';
import type { Clock } from './clock';
import { RuntimeModule } from './runtime.module';
import { listenService, type ServiceListenOptions } from './service-app';
import { openServiceDatabase } from './service-database';

/** What every service reads to join the platform (`commonConfig`). */
export interface ServiceRuntimeConfig {
  NATS_URL: string;
  LATTICE_NAMESPACE?: string;
  LATTICE_INTERNAL_SECRET: string;
  LATTICE_CONTEXT_KEY: string;
  LATTICE_CONTEXT_PUBLIC_KEYS: string;
  LATTICE_NATS_USER?: string;
  LATTICE_NATS_PASSWORD?: string;
}

/** How a service is started by the launcher and the tests (a chart runs migrations as a Job). */
export interface ServiceAppStart {
  /** Run migrations before starting. */
  migrate?: boolean;
  clock?: Clock;
}

/** Creates or updates a JetStream stream the service publishes to or consumes. */
export type StreamSetup = (nats: NatsConnection, ns: SubjectNamespace) => Promise<void>;

export interface ServiceAppOptions {
  service: string;
  config: ServiceRuntimeConfig;
  logger: Logger;
  /** Its schema and runtime pool. */
  database: ServiceDatabaseOptions;
  /** Run migrations before starting (the launcher and tests do; a chart runs them as a Job). */
  migrate?: boolean;
  /** The streams it needs, made sure of before it handles anything. */
  streams: readonly StreamSetup[];
  /** It records audit events (see `RuntimeOptions.auditRecorder`). */
  auditRecorder?: boolean;
  /** Where its health and metrics endpoints listen. */
  http: Omit<
    ServiceListenOptions,
    'service' | 'natsUrl' | 'natsCredentials' | 'namespace' | 'logger'
  >;
  /** The service's own module, over its runtime pool. */
  module(dataSource: DataSource): DynamicModule;
}

/**
 * A database-backed NATS service, assembled: its schema migrated where asked and its pool
 * open, NATS connected and its streams there, the runtime module beside its own, its handlers
 * and health and metrics endpoints listening. `app.close()` drains it.
 */
export async function createServiceApp(options: ServiceAppOptions): Promise<INestApplication> {
  const { service, config, logger } = options;
  const dataSource = await openServiceDatabase(options.database, logger, {
    migrate: options.migrate,
  });

  const ns = new SubjectNamespace(config.LATTICE_NAMESPACE);
  const signer = ContextSigner.fromConfig(service, config);
  const credentials = natsCredentials(config);
  const nats = await connectNats(config.NATS_URL, `lattice-${service}`, credentials);
  for (const ensure of options.streams) await ensure(nats, ns);

  @Module({
    imports: [
      RuntimeModule.forRoot({
        service,
        nats,
        logger,
        namespace: config.LATTICE_NAMESPACE,
        signer,
        auditRecorder: options.auditRecorder,
      }),
      options.module(dataSource),
    ],
  })
  class ServiceAppModule {}

  return listenService(ServiceAppModule, {
    ...options.http,
    service,
    natsUrl: config.NATS_URL,
    natsCredentials: credentials,
    namespace: config.LATTICE_NAMESPACE,
    logger,
  });
}
