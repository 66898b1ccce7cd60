import type { INestApplication } from '@nestjs/common';
import { ConfigError, loadConfig, type ConfigOf, type ConfigSpec } from '@lattice/config';
import { createLogger, type Logger } from '@lattice/logging';
import { stopTelemetry } from '@lattice/telemetry';
import { exitOnSignals } from './shutdown';

/**
 * The start of a service process: validate the environment (a bad variable exits 78, naming
 * it), create the app, and drain it on SIGTERM. A failed start exits 1.
 */
export async function bootstrapService<S extends ConfigSpec & { LOG_LEVEL: ConfigSpec[string] }>(
  service: string,
  spec: S,
  create: (config: ConfigOf<S>, logger: Logger) => Promise<INestApplication>,
): Promise<void> {
  let config: ConfigOf<S>;
  try {
    config = loadConfig(spec);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${service}: ${error.message}`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger(service, config.LOG_LEVEL as string);
  try {
    const app = await create(config, logger);
    logger.info(`${service} service started`);
    exitOnSignals(app, logger, stopTelemetry);
  } catch (error) {
    logger.fatal({ err: error }, `${service} service failed to start`);
    await stopTelemetry();
    process.exit(1);
  }
}
