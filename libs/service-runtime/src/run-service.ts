import {
  ConfigError,
  commonConfig,
  databaseConfig,
  loadConfig,
  variable,
  type ConfigOf,
  type ConfigSpec,
} from '@lattice/config';
import { migrateServiceDatabase, type ServiceDatabaseOptions } from '@lattice/database';
import { createLogger, type Logger } from '@lattice/logging';
import { stopTelemetry } from '@lattice/telemetry';
import { z } from 'zod';
import { ensureContextKeySecret } from './context-key-secret';
import type { ServiceDatabaseConfig } from './service-database';
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
  /**
   * Its schema and migrations, for `--migrate-only`: migrate and exit, reading nothing but the
   * database variables (a chart's migration Job, run before the services start).
   */
  database?(config: ServiceDatabaseConfig): ServiceDatabaseOptions;
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
  if (host.argv.includes('--migrate-only')) return migrateOnly(definition, host);
  if (host.argv.includes('--ensure-context-keys')) return ensureContextKeys(definition, host);
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

const migrationConfig = { LOG_LEVEL: commonConfig.LOG_LEVEL, ...databaseConfig };

/** `--migrate-only`: the service's schema migrated, then exit 0 (1 when it could not be). */
async function migrateOnly<S extends ServiceConfigSpec>(
  definition: ServiceDefinition<S>,
  host: ServiceHost,
): Promise<void> {
  const { name } = definition;
  let config: ConfigOf<typeof migrationConfig>;
  try {
    config = loadConfig(migrationConfig, host.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    host.printError(`${name}: ${error.message}`);
    return host.exit(EXIT_CONFIG);
  }
  const logger = createLogger(name, config.LOG_LEVEL);
  if (!definition.database) {
    // a migration Job names only services with a schema: one without is a mistake to show
    host.printError(`${name}: --migrate-only, but the service defines no database to migrate`);
    return host.exit(1);
  }
  try {
    const ran = await migrateServiceDatabase(definition.database(config));
    logger.info({ migrations: ran }, `${name} schema migrated`);
    host.exit(0);
  } catch (error) {
    logger.fatal({ err: error }, `${name} schema migration failed`);
    host.exit(1);
  }
}

const contextKeysJobConfig = {
  LOG_LEVEL: commonConfig.LOG_LEVEL,
  POD_NAMESPACE: variable(z.string().min(1), 'Namespace of the Secret of context keys.'),
  LATTICE_CONTEXT_KEYS_SECRET: variable(z.string().min(1), 'Name of the Secret of context keys.'),
  LATTICE_CONTEXT_KEY_SERVICES: variable(
    z
      .string()
      .transform((list) =>
        list
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^[a-z][a-z0-9-]*$/)).min(1)),
    'The services that each need a key in it, comma-separated.',
  ),
};

/**
 * `--ensure-context-keys`: the Secret of request-context keys made complete (a key for each of
 * LATTICE_CONTEXT_KEY_SERVICES, the JWKS of all), keys already there kept, through the
 * Kubernetes API with the pod's own service account; then exit 0 (1 when it could not be).
 * The chart's pre-install and pre-upgrade hook runs it, Helm being unable to derive a public
 * key from a private key it generates.
 */
async function ensureContextKeys<S extends ServiceConfigSpec>(
  definition: ServiceDefinition<S>,
  host: ServiceHost,
): Promise<void> {
  const { name } = definition;
  let config: ConfigOf<typeof contextKeysJobConfig>;
  try {
    config = loadConfig(contextKeysJobConfig, host.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    host.printError(`${name}: ${error.message}`);
    return host.exit(EXIT_CONFIG);
  }
  if (!host.env.KUBERNETES_SERVICE_HOST) {
    host.printError(
      `${name}: --ensure-context-keys runs in a Kubernetes pod (no KUBERNETES_SERVICE_HOST)`,
    );
    return host.exit(1);
  }
  const logger = createLogger(name, config.LOG_LEVEL);
  try {
    // loaded here only: no service needs the Kubernetes client to run
    const { CoreV1Api, KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromCluster();
    const outcome = await ensureContextKeySecret(kc.makeApiClient(CoreV1Api), {
      namespace: config.POD_NAMESPACE,
      name: config.LATTICE_CONTEXT_KEYS_SECRET,
      services: config.LATTICE_CONTEXT_KEY_SERVICES,
    });
    logger.info({ secret: config.LATTICE_CONTEXT_KEYS_SECRET, ...outcome }, 'context keys ready');
    host.exit(0);
  } catch (error) {
    logger.fatal({ err: error }, 'context keys could not be made');
    host.exit(1);
  }
}
