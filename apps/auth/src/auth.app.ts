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
import { authMigrations } from '../migrations';
import { authConfigSpec, type AuthConfig } from './auth.config';
import { AuthModule } from './auth.module';

export function authDatabase(config: ServiceDatabaseConfig): ServiceDatabaseOptions {
  return serviceDatabase(config, {
    schema: 'auth',
    entities: [],
    migrations: authMigrations,
  });
}

/**
 * The auth service: NATS handlers for logins, tokens, users, roles and API keys, plus an
 * HTTP listener for health and metrics. Returned listening; `app.close()` drains it.
 */
export function createAuthApp(
  config: AuthConfig,
  logger: Logger,
  options: ServiceAppStart = {},
): Promise<INestApplication> {
  return createServiceApp({
    service: 'auth',
    config,
    logger,
    database: authDatabase(config),
    migrate: options.migrate,
    streams: [ensureAuditStream],
    auditRecorder: true,
    http: { port: config.AUTH_HTTP_PORT, host: config.LATTICE_BIND_HOST },
    module: (dataSource) => AuthModule.forRoot(config, dataSource, options.clock),
  });
}

export const authService = defineService({
  name: 'auth',
  config: authConfigSpec,
  database: authDatabase,
  create: (config, logger, { migrate }) => createAuthApp(config, logger, { migrate }),
  started: (config) => ({ port: config.AUTH_HTTP_PORT }),
});
