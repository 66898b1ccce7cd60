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
import { authMigrations } from '../migrations';
import { authConfigSpec, type AuthConfig } from './auth.config';
import { AuthModule } from './auth.module';

export function authDatabase(config: AuthConfig): ServiceDatabaseOptions {
  return {
    adminUrl: config.DATABASE_URL,
    appPassword: config.DATABASE_APP_PASSWORD,
    schema: 'auth',
    entities: [],
    migrations: authMigrations,
    poolSize: config.DATABASE_POOL_SIZE,
  };
}

export interface AuthAppOptions {
  /** Run migrations before starting (the launcher and tests do; a chart runs them as a Job). */
  migrate?: boolean;
  clock?: Clock;
}

/**
 * The auth service: NATS handlers for logins, tokens, users, roles and API keys, plus an
 * HTTP listener for health and metrics. Returned listening; `app.close()` drains it.
 */
export async function createAuthApp(
  config: AuthConfig,
  logger: Logger,
  options: AuthAppOptions = {},
): Promise<INestApplication> {
  const dataSource = await openServiceDatabase(authDatabase(config), logger, options);

  const nats = await connectNats(config.NATS_URL, 'lattice-auth');
  await ensureAuditStream(nats, new SubjectNamespace(config.LATTICE_NAMESPACE));

  @Module({
    imports: [
      RuntimeModule.forRoot({
        service: 'auth',
        nats,
        logger,
        namespace: config.LATTICE_NAMESPACE,
        internalSecret: config.LATTICE_INTERNAL_SECRET,
        auditRecorder: true,
      }),
      AuthModule.forRoot(config, dataSource, options.clock),
    ],
  })
  class AuthAppModule {}

  return listenService(AuthAppModule, {
    service: 'auth',
    natsUrl: config.NATS_URL,
    namespace: config.LATTICE_NAMESPACE,
    logger,
    port: config.AUTH_HTTP_PORT,
    host: config.LATTICE_BIND_HOST,
  });
}

export const authService = defineService({
  name: 'auth',
  config: authConfigSpec,
  create: (config, logger, { migrate }) => createAuthApp(config, logger, { migrate }),
  started: (config) => ({ port: config.AUTH_HTTP_PORT }),
});
