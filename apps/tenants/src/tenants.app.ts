import { Module, type INestApplication } from '@nestjs/common';
import { TenantEventsStream, UsageStream } from '@lattice/contracts';
import type { ServiceDatabaseOptions } from '@lattice/database';
import type { Logger } from '@lattice/logging';
import { SubjectNamespace, connectNats, ensureStream } from '@lattice/messaging';
import {
  RuntimeModule,
  defineService,
  listenService,
  openServiceDatabase,
  type Clock,
} from '@lattice/service-runtime';
import { OutboxEntity } from './events/outbox.entity';
import { TenantEntity } from './tenant/tenant.entity';
import { TenantsModule } from './tenants.module';
import { tenantsConfigSpec, type TenantsConfig } from './tenants.config';
import { tenantsMigrations } from '../migrations';

export function tenantsDatabase(config: TenantsConfig): ServiceDatabaseOptions {
  return {
    adminUrl: config.DATABASE_URL,
    appPassword: config.DATABASE_APP_PASSWORD,
    schema: 'tenants',
    entities: [TenantEntity, OutboxEntity],
    migrations: tenantsMigrations,
    poolSize: config.DATABASE_POOL_SIZE,
  };
}

export interface TenantsAppOptions {
  /** Run migrations before starting (the launcher and tests do; a chart runs them as a Job). */
  migrate?: boolean;
  clock?: Clock;
}

/**
 * The tenants service: NATS handlers and the usage consumer, plus an HTTP listener for
 * health and metrics. Returned listening; `app.close()` drains it.
 */
export async function createTenantsApp(
  config: TenantsConfig,
  logger: Logger,
  options: TenantsAppOptions = {},
): Promise<INestApplication> {
  const dataSource = await openServiceDatabase(tenantsDatabase(config), logger, options);

  const ns = new SubjectNamespace(config.LATTICE_NAMESPACE);
  const nats = await connectNats(config.NATS_URL, 'lattice-tenants');
  await ensureStream(nats, ns, TenantEventsStream, {
    max_age: 7 * 24 * 3600 * 1_000_000_000,
  });
  await ensureStream(nats, ns, UsageStream, {
    max_age: 30 * 24 * 3600 * 1_000_000_000,
  });

  @Module({
    imports: [
      RuntimeModule.forRoot({
        service: 'tenants',
        nats,
        logger,
        namespace: config.LATTICE_NAMESPACE,
        internalSecret: config.LATTICE_INTERNAL_SECRET,
      }),
      TenantsModule.forRoot(config, dataSource, options.clock),
    ],
  })
  class TenantsAppModule {}

  return listenService(TenantsAppModule, {
    service: 'tenants',
    natsUrl: config.NATS_URL,
    namespace: config.LATTICE_NAMESPACE,
    logger,
    port: config.TENANTS_HTTP_PORT,
    host: config.LATTICE_BIND_HOST,
  });
}

export const tenantsService = defineService({
  name: 'tenants',
  config: tenantsConfigSpec,
  create: (config, logger, { migrate }) => createTenantsApp(config, logger, { migrate }),
  started: (config) => ({ port: config.TENANTS_HTTP_PORT }),
});
