import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  createRuntimeDataSource,
  migrateServiceDatabase,
  type ServiceDatabaseOptions,
} from '@lattice/database';
import { NestPinoLogger, type Logger } from '@lattice/logging';
import {
  LatticeNatsServer,
  SubjectNamespace,
  connectNats,
  ensureAuditStream,
} from '@lattice/messaging';
import { RuntimeModule, type Clock } from '@lattice/service-runtime';
import { authMigrations } from '../migrations';
import type { AuthConfig } from './auth.config';
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
  const db = authDatabase(config);
  if (options.migrate) {
    const ran = await migrateServiceDatabase(db);
    if (ran.length) logger.info({ migrations: ran }, 'migrations applied');
  }
  const dataSource = createRuntimeDataSource(db);
  await dataSource.initialize();

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
      }),
      AuthModule.forRoot(config, dataSource, options.clock),
    ],
  })
  class AuthAppModule {}

  const app = await NestFactory.create<NestFastifyApplication>(
    AuthAppModule,
    new FastifyAdapter(),
    {
      logger: new NestPinoLogger(logger),
      bufferLogs: false,
    },
  );
  app.connectMicroservice(
    {
      strategy: new LatticeNatsServer({
        servers: config.NATS_URL,
        queue: 'auth',
        name: 'lattice-auth-rpc',
        namespace: config.LATTICE_NAMESPACE,
        gracePeriod: 10_000,
      }),
    },
    { inheritAppConfig: true },
  );
  await app.startAllMicroservices();
  await app.listen(config.AUTH_HTTP_PORT, config.LATTICE_BIND_HOST);
  return app;
}
