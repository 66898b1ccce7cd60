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
