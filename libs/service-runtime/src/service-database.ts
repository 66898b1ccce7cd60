import type { DataSource } from 'typeorm';
import {
  createRuntimeDataSource,
  migrateServiceDatabase,
  type ServiceDatabaseOptions,
} from '@lattice/database';
import type { Logger } from '@lattice/logging';

/**
 * Migrates the service's schema where asked (the launcher and tests do; a chart runs them as
 * a Job), then opens its runtime pool (`databaseProviders` hands it to the service's module).
 */
export async function openServiceDatabase(
  db: ServiceDatabaseOptions,
  logger: Logger,
  options: { migrate?: boolean } = {},
): Promise<DataSource> {
  if (options.migrate) {
    const ran = await migrateServiceDatabase(db);
    if (ran.length) logger.info({ migrations: ran }, 'migrations applied');
  }
  const dataSource = createRuntimeDataSource(db);
  await dataSource.initialize();
  return dataSource;
}

/** The database variables every database-backed service reads (`databaseConfig`). */
export interface ServiceDatabaseConfig {
  DATABASE_URL: string;
  DATABASE_APP_PASSWORD?: string;
  DATABASE_POOL_SIZE: number;
}

/** A service's database as its configuration names it, around its own schema and migrations. */
export function serviceDatabase(
  config: ServiceDatabaseConfig,
  schema: Omit<ServiceDatabaseOptions, 'adminUrl' | 'appPassword' | 'poolSize'>,
): ServiceDatabaseOptions {
  return {
    adminUrl: config.DATABASE_URL,
    appPassword: config.DATABASE_APP_PASSWORD,
    poolSize: config.DATABASE_POOL_SIZE,
    ...schema,
  };
}
