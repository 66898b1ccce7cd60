import { Module, type INestApplication } from '@nestjs/common';
import type { ServiceDatabaseOptions } from '@lattice/database';
import type { Logger } from '@lattice/logging';
import { SubjectNamespace, connectNats, ensureAuditStream } from '@lattice/messaging';
import {
  RuntimeModule,
  defineService,
  listenService,
  openServiceDatabase,
  type Clock,
} from '@lattice/service-runtime';
import { auditMigrations } from '../migrations';
import { AuditModule } from './audit.module';
import { auditConfigSpec, type AuditConfig } from './audit.config';

export function auditDatabase(config: AuditConfig): ServiceDatabaseOptions {
  return {
    adminUrl: config.DATABASE_URL,
    appPassword: config.DATABASE_APP_PASSWORD,
    schema: 'audit',
    entities: [],
    migrations: auditMigrations,
    poolSize: config.DATABASE_POOL_SIZE,
    appendOnlyTables: ['events', 'checkpoints', 'consents'],
  };
}

export interface AuditAppOptions {
  /** Run migrations before starting (the launcher and tests do; a chart runs them as a Job). */
  migrate?: boolean;
  clock?: Clock;
}

/**
 * The audit service: the AUDIT stream's consumer, NATS handlers for queries, verification,
 * GDPR and consents, and an HTTP listener for health and metrics. Returned listening.
 */
export async function createAuditApp(
  config: AuditConfig,
  logger: Logger,
  options: AuditAppOptions = {},
): Promise<INestApplication> {
  const dataSource = await openServiceDatabase(auditDatabase(config), logger, options);

  const nats = await connectNats(config.NATS_URL, 'lattice-audit');
  await ensureAuditStream(nats, new SubjectNamespace(config.LATTICE_NAMESPACE));

  @Module({
    imports: [
      RuntimeModule.forRoot({
        service: 'audit',
        nats,
        logger,
        namespace: config.LATTICE_NAMESPACE,
        internalSecret: config.LATTICE_INTERNAL_SECRET,
      }),
      AuditModule.forRoot(config, dataSource, options.clock),
    ],
  })
  class AuditAppModule {}

  return listenService(AuditAppModule, {
    service: 'audit',
    natsUrl: config.NATS_URL,
    namespace: config.LATTICE_NAMESPACE,
    logger,
    port: config.AUDIT_HTTP_PORT,
    host: config.LATTICE_BIND_HOST,
  });
}

export const auditService = defineService({
  name: 'audit',
  config: auditConfigSpec,
  create: (config, logger, { migrate }) => createAuditApp(config, logger, { migrate }),
  started: (config) => ({ port: config.AUDIT_HTTP_PORT }),
});
