import { ConfigError, loadConfig } from '@lattice/config';
import { createLogger } from '@lattice/logging';
import { exitOnSignals } from '@lattice/service-runtime';
import { stopTelemetry } from '@lattice/telemetry';
import { createGatewayApp } from './gateway.app';
import { gatewayConfigSpec } from './gateway.config';

export async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig(gatewayConfigSpec);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`gateway: ${error.message}`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger('gateway', config.LOG_LEVEL);
  try {
    const app = await createGatewayApp(config, logger);
    logger.info({ port: config.GATEWAY_PORT }, 'gateway listening');
    exitOnSignals(app, logger, stopTelemetry);
  } catch (error) {
    logger.fatal({ err: error }, 'gateway failed to start');
    await stopTelemetry();
    process.exit(1);
  }
}
