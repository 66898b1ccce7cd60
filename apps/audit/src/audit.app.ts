import type { INestApplication } from '@nestjs/common';
import type { ServiceDatabaseOptions } from '@lattice/database';
import type { Logger } from '@lattice/logging';
import { ensureAuditStream } from '@lattice/messaging';
import {
  createServiceApp,
  defineService,
  serviceDatabase,
  type ServiceAppStart,
  type ServiceDatabaseConfig,
} from '@lattice/service-runtime';
import { auditMigrations } from '../migrations';
import { AuditModule } from './audit.module';
import { auditConfigSpec, type AuditConfig } from './audit.config';

export function auditDatabase(config: ServiceDatabaseConfig): ServiceDatabaseOptions {
  return serviceDatabase(config, {
    schema: 'audit',
    entities: [],
    migrations: auditMigrations,
    appendOnlyTables: ['events', 'checkpoints', 'consents'],
  });
}

/**
 * The audit service: the AUDIT stream's consumer, NATS handlers for queries, verification,
 * GDPR and consents, and an HTTP listener for health and metrics. Returned listening.
 */
export function createAuditApp(
  config: AuditConfig,
  logger: Logger,
  options: ServiceAppStart = {},
): Promise<INestApplication> {
  return createServiceApp({
    service: 'audit',
    config,
    logger,
    database: auditDatabase(config),
    migrate: options.migrate,
    streams: [ensureAuditStream],
    http: { port: config.AUDIT_HTTP_PORT, host: config.LATTICE_BIND_HOST },
    module: (dataSource) => AuditModule.forRoot(config, dataSource, options.clock),
  });
}

export const auditService = defineService({
  name: 'audit',
  config: auditConfigSpec,
  database: auditDatabase,
  create: (config, logger, { migrate }) => createAuditApp(config, logger, { migrate }),
  started: (config) => ({ port: config.AUDIT_HTTP_PORT }),
});
