import { ConfigError, loadConfig } from '@lattice/config';
import { createLogger } from '@lattice/logging';
import { exitOnSignals } from '@lattice/service-runtime';
import { stopTelemetry } from '@lattice/telemetry';
import { createOperator } from './operator.app';
import { operatorConfigSpec } from './operator.config';

export async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig(operatorConfigSpec);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`operator: ${error.message}`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger('operator', config.LOG_LEVEL);
  try {
    const operator = await createOperator(config, logger);
    logger.info(
      { port: config.OPERATOR_HTTP_PORT, identity: config.OPERATOR_IDENTITY },
      'operator started',
    );
    // step down before Nest closes, so the other replica takes the lease at once
    exitOnSignals({ close: () => operator.close() }, logger, stopTelemetry);
  } catch (error) {
    logger.fatal({ err: error }, 'operator failed to start');
    await stopTelemetry();
    process.exit(1);
  }
}
