import type { INestApplication } from '@nestjs/common';
import { TenantEventsStream, UsageStream } from '@lattice/contracts';
import type { ServiceDatabaseOptions } from '@lattice/database';
import type { Logger } from '@lattice/logging';
import { ensureStream } from '@lattice/messaging';
import {
  createServiceApp,
  defineService,
  serviceDatabase,
  type ServiceAppStart,
  type ServiceDatabaseConfig,
} from '@lattice/service-runtime';
import { OutboxEntity } from './events/outbox.entity';
import { TenantEntity } from './tenant/tenant.entity';
import { TenantsModule } from './tenants.module';
import { tenantsConfigSpec, type TenantsConfig } from './tenants.config';
import { tenantsMigrations } from '../migrations';

export function tenantsDatabase(config: ServiceDatabaseConfig): ServiceDatabaseOptions {
  return serviceDatabase(config, {
    schema: 'tenants',
    entities: [TenantEntity, OutboxEntity],
    migrations: tenantsMigrations,
  });
}

/**
 * The tenants service: NATS handlers and the usage consumer, plus an HTTP listener for
 * health and metrics. Returned listening; `app.close()` drains it.
 */
export function createTenantsApp(
  config: TenantsConfig,
  logger: Logger,
  options: ServiceAppStart = {},
): Promise<INestApplication> {
  return createServiceApp({
    service: 'tenants',
    config,
    logger,
    database: tenantsDatabase(config),
    migrate: options.migrate,
    streams: [
      (nats, ns) =>
        ensureStream(nats, ns, TenantEventsStream, { max_age: 7 * 24 * 3600 * 1_000_000_000 }),
      (nats, ns) =>
        ensureStream(nats, ns, UsageStream, { max_age: 30 * 24 * 3600 * 1_000_000_000 }),
    ],
    http: { port: config.TENANTS_HTTP_PORT, host: config.LATTICE_BIND_HOST },
    module: (dataSource) => TenantsModule.forRoot(config, dataSource, options.clock),
  });
}

export const tenantsService = defineService({
  name: 'tenants',
  config: tenantsConfigSpec,
  database: tenantsDatabase,
  create: (config, logger, { migrate }) => createTenantsApp(config, logger, { migrate }),
  started: (config) => ({ port: config.TENANTS_HTTP_PORT }),
});
