import { ConfigError, loadConfig } from '@lattice/config';
import { createLogger } from '@lattice/logging';
import { exitOnSignals } from '@lattice/service-runtime';
import { stopTelemetry } from '@lattice/telemetry';
import { createAuthApp } from './auth.app';
import { authConfigSpec } from './auth.config';

export async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig(authConfigSpec);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`auth: ${error.message}`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger('auth', config.LOG_LEVEL);
  try {
    const app = await createAuthApp(config, logger, {
      migrate: process.argv.includes('--migrate'),
    });
    logger.info({ port: config.AUTH_HTTP_PORT }, 'auth service started');
    exitOnSignals(app, logger, stopTelemetry);
  } catch (error) {
    logger.fatal({ err: error }, 'auth service failed to start');
    await stopTelemetry();
    process.exit(1);
  }
}
