import {
  Inject,
  type INestApplication,
  type OnApplicationShutdown,
  type Provider,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { TenantScope } from '@lattice/database';
import { NestPinoLogger, type Logger } from '@lattice/logging';
import { LatticeNatsServer, type NatsCredentials } from '@lattice/messaging';
import { HealthRegistry } from './health';

export interface ServiceListenOptions {
  service: string;
  natsUrl: string;
  /** The service's own NATS user, where the server asks for one. */
  natsCredentials?: NatsCredentials;
  namespace?: string;
  logger: Logger;
  /** Port of the health and metrics endpoints. */
  port: number;
  /** Address they listen on (LATTICE_BIND_HOST). */
  host: string;
}

/**
 * Creates a service's Nest app with its NATS handlers (one queue group per service) and an
 * HTTP listener for health and metrics, and returns it listening. `app.close()` drains it.
 */
export async function listenService(
  module: Type,
  options: ServiceListenOptions,
): Promise<INestApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter(), {
    logger: new NestPinoLogger(options.logger),
    bufferLogs: false,
  });
  app.connectMicroservice(
    {
      strategy: new LatticeNatsServer({
        servers: options.natsUrl,
        queue: options.service,
        name: `lattice-${options.service}-rpc`,
        namespace: options.namespace,
        ...options.natsCredentials,
        gracePeriod: 10_000,
      }),
    },
    { inheritAppConfig: true },
  );
  await app.startAllMicroservices();
  await app.listen(options.port, options.host);
  return app;
}

/** Closes the pool after everything that uses it has stopped. */
class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** The runtime pool, tenant scopes over it, its readiness check, and its closing. */
export function databaseProviders(dataSource: DataSource): Provider[] {
  return [
    { provide: DataSource, useValue: dataSource },
    { provide: TenantScope, useValue: new TenantScope(dataSource) },
    {
      provide: 'DATABASE_READINESS',
      inject: [HealthRegistry],
      useFactory: (health: HealthRegistry) =>
        health.register('postgres', async () => {
          await dataSource.query('SELECT 1');
        }),
    },
    DatabaseLifecycle,
  ];
}
