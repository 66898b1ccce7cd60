import { ConfigError, loadConfig } from '@lattice/config';
import { createLogger } from '@lattice/logging';
import { exitOnSignals } from '@lattice/service-runtime';
import { stopTelemetry } from '@lattice/telemetry';
import { createTenantsApp } from './tenants.app';
import { tenantsConfigSpec } from './tenants.config';

export async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig(tenantsConfigSpec);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`tenants: ${error.message}`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger('tenants', config.LOG_LEVEL);
  try {
    const app = await createTenantsApp(config, logger, {
      migrate: process.argv.includes('--migrate'),
    });
    logger.info({ port: config.TENANTS_HTTP_PORT }, 'tenants service started');
    exitOnSignals(app, logger, stopTelemetry);
  } catch (error) {
    logger.fatal({ err: error }, 'tenants service failed to start');
    await stopTelemetry();
    process.exit(1);
  }
}
