import { join, resolve } from 'node:path';
import { simulatedGpuServices, type SimulatedGpuPorts } from './gpu-simulation';
import { modelServingServices, type ModelServingPorts } from './model-serving';
import { SERVICE_NAMES } from '@lattice/contracts';
import { freePort } from '@lattice/local-infra';
import { newContextKeySet, type ContextKeySet } from '@lattice/request-context';
import { newCheckpointKey } from './local-state';
import { RestartPolicy, type RestartPolicyOptions } from './restart-policy';
import { ServiceProcess, type LogSink } from './service-process';

export interface PlatformOptions {
  databaseUrl: string;
  natsUrl: string;
  internalSecret: string;
  /**
   * Each service's request-context key (PEM) and the JWKS of their public halves; fresh ones
   * when omitted.
   */
  contextKeys?: ContextKeySet;
  /**
   * Each service's NATS password, where the NATS server has a user per service (the launcher's
   * own server does); unset, the services connect without credentials.
   */
  natsPasswords?: Record<string, string>;
  /** Key-encryption keys for secrets the services store (LATTICE_KEK). */
  kek: string;
  /** The first platform admin, created when the installation has none. */
  admin: { email: string; password: string };
  appPassword?: string;
  namespace?: string;
  gatewayPort: number;
  tenantsPort: number;
  authPort: number;
  /** Health and metrics port of the audit service. */
  auditPort?: number;
  /** Health and metrics port of the scheduler service. */
  schedulerPort?: number;
  /** Health and metrics port of the GPU-node service. */
  gpuNodesPort?: number;
  /** Health and metrics port of the RAG service. */
  ragPort?: number;
  /** Ports of the simulated GPU nodes' exporters and agents; 9401-9402 and 8088-8089 when omitted. */
  simulatedGpuPorts?: SimulatedGpuPorts;
  /** Ports of the model-server stand-in and the inference worker; 9300 and 8091 when omitted. */
  modelServingPorts?: ModelServingPorts;
  /** Ed25519 private key (PEM) for audit checkpoints; a fresh one when omitted. */
  auditCheckpointKey?: string;
  logLevel?: string;
  /** LATTICE_LOG_FORMAT of every service; unset, each picks from its own output (JSON, piped). */
  logFormat?: 'json' | 'pretty';
  /** Address every service listens on (LATTICE_BIND_HOST); unset, theirs (all interfaces). */
  bindHost?: string;
  /** When a crashed service is started again, and when it is given up on. */
  restartPolicy?: RestartPolicyOptions;
  /** A service kept crashing after the platform was up and is no longer started again. */
  onGiveUp?: (service: string, reason: string) => void;
  /** Extra variables for every service (OTEL_*, for instance). */
  env?: Record<string, string>;
  log: LogSink;
  distDir?: string;
}

/** Every port a platform's processes listen on. */
export type PlatformPorts = Required<
  Pick<
    PlatformOptions,
    | 'gatewayPort'
    | 'tenantsPort'
    | 'authPort'
    | 'auditPort'
    | 'schedulerPort'
    | 'gpuNodesPort'
    | 'ragPort'
    | 'simulatedGpuPorts'
    | 'modelServingPorts'
  >
>;

/** A free port for each of a platform's processes, so it runs beside anything else (tests, benches). */
export async function freePlatformPorts(): Promise<PlatformPorts> {
  return {
    gatewayPort: await freePort(),
    tenantsPort: await freePort(),
    authPort: await freePort(),
    auditPort: await freePort(),
    schedulerPort: await freePort(),
    gpuNodesPort: await freePort(),
    ragPort: await freePort(),
    simulatedGpuPorts: {
      exporters: [await freePort(), await freePort()],
      agents: [await freePort(), await freePort()],
    },
    modelServingPorts: { standIn: await freePort(), worker: await freePort() },
  };
}

export interface RunningPlatform {
  gatewayUrl: string;
  services: ServiceProcess[];
  stop(): Promise<void>;
}

/**
 * Starts every service as its own process, all at once (loading Node modules is most of a
 * start), then waits for each to be ready in dependency order: the tenants, auth, audit and
 * scheduler and GPU-node services (which migrate their schemas first), then the gateway, whose readiness includes theirs.
 */
export async function startPlatform(options: PlatformOptions): Promise<RunningPlatform> {
  const distDir = options.distDir ?? resolve(__dirname, '../../..');
  const common: Record<string, string> = {
    NATS_URL: options.natsUrl,
    LATTICE_INTERNAL_SECRET: options.internalSecret,
    LOG_LEVEL: options.logLevel ?? 'info',
    ...(options.logFormat ? { LATTICE_LOG_FORMAT: options.logFormat } : {}),
    ...(options.bindHost ? { LATTICE_BIND_HOST: options.bindHost } : {}),
    ...(options.namespace ? { LATTICE_NAMESPACE: options.namespace } : {}),
    ...options.env,
  };
  const auditPort = options.auditPort ?? 8083;
  const schedulerPort = options.schedulerPort ?? 8084;
  const gpuNodesPort = options.gpuNodesPort ?? 8085;
  const ragPort = options.ragPort ?? 8087;
  // before the platform is up, a service given up on fails the start instead
  let up = false;
  const supervision = () => ({
    policy: new RestartPolicy(options.restartPolicy),
    onGiveUp: (service: ServiceProcess, reason: string) => {
      if (up) options.onGiveUp?.(service.name, reason);
    },
  });
  // the simulated GPU nodes start once the platform is ready, not competing with its start-up
  const simulatedGpus = simulatedGpuServices(common, options.simulatedGpuPorts).map(
    (spec) => new ServiceProcess(spec, distDir, options.log, supervision()),
  );
  // started with the simulated GPU nodes, once the services they call are up
  const modelServing = modelServingServices(common, options.modelServingPorts).map(
    (spec) => new ServiceProcess(spec, distDir, options.log, supervision()),
  );
  const late = [...simulatedGpus, ...modelServing];
  const services = [
    new ServiceProcess(
      {
        name: 'tenants',
        entry: join('apps', 'tenants', 'src', 'main.js'),
        args: ['--migrate'],
        env: {
          ...common,
          DATABASE_URL: options.databaseUrl,
          ...(options.appPassword ? { DATABASE_APP_PASSWORD: options.appPassword } : {}),
          TENANTS_HTTP_PORT: String(options.tenantsPort),
        },
        readyUrl: `http://127.0.0.1:${options.tenantsPort}/readyz`,
      },
      distDir,
      options.log,
      supervision(),
    ),
    new ServiceProcess(
      {
        name: 'auth',
        entry: join('apps', 'auth', 'src', 'main.js'),
        args: ['--migrate'],
        env: {
          ...common,
          DATABASE_URL: options.databaseUrl,
          ...(options.appPassword ? { DATABASE_APP_PASSWORD: options.appPassword } : {}),
          AUTH_HTTP_PORT: String(options.authPort),
          LATTICE_KEK: options.kek,
          AUTH_ADMIN_EMAIL: options.admin.email,
          AUTH_ADMIN_PASSWORD: options.admin.password,
        },
        readyUrl: `http://127.0.0.1:${options.authPort}/readyz`,
      },
      distDir,
      options.log,
      supervision(),
    ),
    new ServiceProcess(
      {
        name: 'audit',
        entry: join('apps', 'audit', 'src', 'main.js'),
        args: ['--migrate'],
        env: {
          ...common,
          DATABASE_URL: options.databaseUrl,
          ...(options.appPassword ? { DATABASE_APP_PASSWORD: options.appPassword } : {}),
          AUDIT_HTTP_PORT: String(auditPort),
          AUDIT_CHECKPOINT_KEY: options.auditCheckpointKey ?? newCheckpointKey(),
          LATTICE_KEK: options.kek,
        },
        readyUrl: `http://127.0.0.1:${auditPort}/readyz`,
      },
      distDir,
      options.log,
      supervision(),
    ),
    new ServiceProcess(
      {
        name: 'scheduler',
        entry: join('apps', 'scheduler', 'src', 'main.js'),
        args: ['--migrate'],
        env: {
          ...common,
          DATABASE_URL: options.databaseUrl,
          ...(options.appPassword ? { DATABASE_APP_PASSWORD: options.appPassword } : {}),
          SCHEDULER_HTTP_PORT: String(schedulerPort),
        },
        readyUrl: `http://127.0.0.1:${schedulerPort}/readyz`,
      },
      distDir,
      options.log,
      supervision(),
    ),
    ...simulatedGpus,
    ...modelServing,
    new ServiceProcess(
      {
        name: 'gpu-nodes',
        entry: join('apps', 'gpu-nodes', 'src', 'main.js'),
        args: ['--migrate'],
        env: {
          ...common,
          DATABASE_URL: options.databaseUrl,
          ...(options.appPassword ? { DATABASE_APP_PASSWORD: options.appPassword } : {}),
          GPU_NODES_HTTP_PORT: String(gpuNodesPort),
        },
        readyUrl: `http://127.0.0.1:${gpuNodesPort}/readyz`,
      },
      distDir,
      options.log,
      supervision(),
    ),
    new ServiceProcess(
      {
        name: 'rag',
        entry: join('apps', 'rag', 'src', 'main.js'),
        args: ['--migrate'],
        env: {
          ...common,
          DATABASE_URL: options.databaseUrl,
          ...(options.appPassword ? { DATABASE_APP_PASSWORD: options.appPassword } : {}),
          RAG_HTTP_PORT: String(ragPort),
        },
        readyUrl: `http://127.0.0.1:${ragPort}/readyz`,
      },
      distDir,
      options.log,
      supervision(),
    ),
    new ServiceProcess(
      {
        name: 'gateway',
        entry: join('apps', 'gateway', 'src', 'main.js'),
        env: {
          ...common,
          GATEWAY_PORT: String(options.gatewayPort),
        },
        readyUrl: `http://127.0.0.1:${options.gatewayPort}/readyz`,
      },
      distDir,
      options.log,
      supervision(),
    ),
  ];
  const identities = platformIdentities(options);
  // a service run more than once (an agent per simulated GPU node) is named `<service>:<which>`
  for (const service of services) {
    // the stand-in is outside the platform: no identity on its bus
    if (service.name === 'model-server-stand-in') continue;
    Object.assign(service.spec.env, identities(service.name.split(':')[0]));
  }
  const stop = async () => {
    for (const service of services) service.holdRestarts();
    // the gateway goes first so nothing new arrives while the services drain
    for (const service of [...services].reverse()) await service.stop();
  };
  try {
    const core = services.filter((service) => !late.includes(service));
    for (const service of core) service.start();
    for (const service of core) await service.waitReady();
    for (const service of late) service.start();
    for (const service of late) await service.waitReady();
    up = true;
  } catch (error) {
    await stop();
    throw error;
  }
  return { gatewayUrl: `http://127.0.0.1:${options.gatewayPort}`, services, stop };
}

/**
 * What each service is known by: its own context key and every service's public key, and
 * its own NATS user where the server has one. Only a service declared in
 * `libs/contracts/src/access` has either.
 */
export function platformIdentities(
  options: Pick<PlatformOptions, 'contextKeys' | 'natsPasswords'>,
): (service: string) => Record<string, string> {
  const keys = options.contextKeys ?? newContextKeySet(SERVICE_NAMES);
  return (service) => {
    const key = keys.privateKeys[service];
    if (!key) {
      throw new Error(
        `${service} has no context key: declare it in libs/contracts/src/access (SERVICE_ACCESS)`,
      );
    }
    const password = options.natsPasswords?.[service];
    if (options.natsPasswords && !password) {
      throw new Error(`${service} has no NATS user: declare it in libs/contracts/src/access`);
    }
    return {
      LATTICE_CONTEXT_KEY: key,
      LATTICE_CONTEXT_PUBLIC_KEYS: keys.publicKeys,
      ...(password ? { LATTICE_NATS_USER: service, LATTICE_NATS_PASSWORD: password } : {}),
    };
  };
}
