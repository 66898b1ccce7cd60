import { ConfigError, loadConfig, type ConfigOf, type ConfigSpec } from '@lattice/config';
import { createLogger, type Logger } from '@lattice/logging';
import { stopTelemetry } from '@lattice/telemetry';
import { exitOnSignals } from './shutdown';

/** What a started service hands back: closing it drains it. */
export interface Closable {
  close(): Promise<void>;
}

export interface ServiceStart {
  /** `--migrate` was on the command line: migrate the service's schema before starting. */
  migrate: boolean;
}

/** A service's environment: whatever it reads, and its log level among it. */
export type ServiceConfigSpec = ConfigSpec & { LOG_LEVEL: ConfigSpec[string] };

export interface ServiceDefinition<S extends ServiceConfigSpec> {
  name: string;
  /** The environment it reads, validated before anything starts. */
  config: S;
  /** Creates the service, listening. */
  create(config: ConfigOf<S>, logger: Logger, start: ServiceStart): Promise<Closable>;
  /** What the line saying it started tells beside its name (its port, say). */
  started?(config: ConfigOf<S>): Record<string, unknown>;
}

/** The process a service runs in, as far as starting and stopping it goes. */
export interface ServiceHost {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Where a bad configuration is told (there is no logger yet: its level is configuration). */
  printError(message: string): void;
  exit(code: number): void;
  /** Stops the service when the process is told to. */
  stopOnSignals(service: Closable, logger: Logger): void;
}

const nodeProcess: ServiceHost = {
  argv: process.argv,
  env: process.env,
  printError: (message) => console.error(message),
  exit: (code) => process.exit(code),
  stopOnSignals: (service, logger) => exitOnSignals(service, logger, stopTelemetry),
};

/** Exit status of a service whose configuration is wrong (sysexits' EX_CONFIG). */
export const EXIT_CONFIG = 78;

/**
 * The start of a service process: validate the environment (a bad variable exits 78, naming
 * it), create the service, and drain it on SIGTERM or SIGINT. A failed start exits 1.
 */
export async function runService<S extends ServiceConfigSpec>(
  definition: ServiceDefinition<S>,
  host: ServiceHost = nodeProcess,
): Promise<void> {
  const { name } = definition;
  let config: ConfigOf<S>;
  try {
    config = loadConfig(definition.config, host.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    host.printError(`${name}: ${error.message}`);
    return host.exit(EXIT_CONFIG);
  }
  const logger = createLogger(name, config.LOG_LEVEL as string);
  try {
    const service = await definition.create(config, logger, {
      migrate: host.argv.includes('--migrate'),
    });
    logger.info(definition.started?.(config) ?? {}, `${name} service started`);
    host.stopOnSignals(service, logger);
  } catch (error) {
    logger.fatal({ err: error }, `${name} service failed to start`);
    await stopTelemetry();
    host.exit(1);
  }
}

/** A service ready for its `main.ts`: `serviceMain` loads it once tracing is on, and runs it. */
export function defineService<S extends ServiceConfigSpec>(
  definition: ServiceDefinition<S>,
): ServiceDefinition<S> & { run(): Promise<void> } {
  return { ...definition, run: () => runService(definition) };
}
