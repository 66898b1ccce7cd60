/**
 * What the gateway benches share: PostgreSQL, NATS and Redis found or started, a throw-away
 * database, the platform started from dist/ with the platform admin signed in, HTTP calls that
 * fail loudly, the baselines' processes, and cleanup in reverse order (the targets are driven by
 * ./interleave).
 */
import { KeyRing } from '@lattice/secrets';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from 'pg';
import {
  LocalNatsServer,
  answers,
  freePort,
  postgresAnswers,
  startEmbeddedPostgres,
} from '@lattice/local-infra';
import { freePlatformPorts, startPlatform } from '../../tools/launcher/src/platform';
import { ServiceProcess } from '../../tools/launcher/src/service-process';
import { say } from './report';

const LOCAL_PG = 'postgres://postgres@127.0.0.1:5432/postgres';

export const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** What a bench started, stopped last-first; a failing stop is reported and the rest still run. */
export class Cleanup {
  private readonly stops: { name: string; stop: () => Promise<void> }[] = [];
  private running?: Promise<void>;

  add(name: string, stop: () => Promise<void>): void {
    this.stops.push({ name, stop });
  }

  /** Stops everything once; a second call waits for the first. */
  run(): Promise<void> {
    this.running ??= (async () => {
      for (const { name, stop } of this.stops.reverse()) {
        await stop().catch((error) => say(`cleanup: ${name} failed: ${(error as Error).message}`));
      }
    })();
    return this.running;
  }
}

/**
 * Runs a bench and exits: 0 when it printed its figures, 1 (saying why) when it failed. Cut
 * short (Ctrl-C, SIGTERM, its output piped into a reader that stopped), it still stops what it
 * started, or the services would outlive it.
 */
export function runBench(bench: (cleanup: Cleanup) => Promise<void>): void {
  const cleanup = new Cleanup();
  const abort = (code: number) => () => void cleanup.run().then(() => process.exit(code));
  process.once('SIGINT', abort(130));
  process.once('SIGTERM', abort(143));
  process.stdout.on('error', abort(1));
  const main = async (): Promise<number> => {
    try {
      await bench(cleanup);
      return 0;
    } catch (error) {
      say(`bench failed: ${(error as Error).stack ?? error}`);
      return 1;
    } finally {
      await cleanup.run();
    }
  };
  void main().then((code) => process.exit(code));
}

/** A server a bench uses, and where it came from (for the header). */
export interface Found {
  url: string;
  source: string;
}

/** The server an environment variable names, if it is set. */
function fromEnv(name: string): Found | undefined {
  const url = process.env[name];
  return url ? { url, source: name } : undefined;
}

/** `scheme://127.0.0.1:port` when something answers there. */
async function local(scheme: string, port: number): Promise<Found | undefined> {
  const host = '127.0.0.1';
  return (await answers(host, port))
    ? { url: `${scheme}://${host}:${port}`, source: `local ${host}:${port}` }
    : undefined;
}

/** PostgreSQL: DATABASE_URL, else a local server, else an embedded one. */
async function findPostgres(cleanup: Cleanup): Promise<Found> {
  const found = fromEnv('DATABASE_URL');
  if (found) return found;
  if (await postgresAnswers(LOCAL_PG)) return { url: LOCAL_PG, source: 'local 127.0.0.1:5432' };
  const pg = await startEmbeddedPostgres();
  cleanup.add('embedded postgres', pg.stop);
  return { url: pg.url, source: 'embedded' };
}

/** NATS: NATS_URL, else a local server, else one of our own. */
async function findNats(cleanup: Cleanup): Promise<Found> {
  const found = fromEnv('NATS_URL') ?? (await local('nats', 4222));
  if (found) return found;
  const nats = await LocalNatsServer.start();
  cleanup.add('nats-server', () => nats.stop());
  return { url: nats.url, source: 'own nats-server' };
}

/**
 * Redis for the gateway's rate limiter: REDIS_URL (which the services inherit), else a local
 * server; undefined when there is none, and the gateway counts in its own memory.
 */
export async function findRedis(): Promise<Found | undefined> {
  return fromEnv('REDIS_URL') ?? (await local('redis', 6379));
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A database of its own on the server, dropped at cleanup; answers its URL. */
async function createDatabase(serverUrl: string, cleanup: Cleanup): Promise<string> {
  const name = `lattice_bench_${hex(6)}`;
  await adminQuery(serverUrl, `CREATE DATABASE "${name}"`);
  cleanup.add('bench database', () =>
    adminQuery(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  );
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A JSON call that must answer `expect` (200 unless told), else throws saying what failed. */
export async function call<T>(
  what: string,
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: unknown;
    expect?: number;
  } = {},
): Promise<T> {
  const expect = options.expect ?? 200;
  const response = await fetch(url, {
    method: options.method ?? 'GET',
    headers: {
      ...options.headers,
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (response.status !== expect)
    throw new Error(`${what} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** Signs in with a password: the `Authorization` header that carries the access token. */
export async function login(
  gatewayUrl: string,
  credentials: { tenant: string; email: string; password: string },
): Promise<Record<string, string>> {
  const { accessToken } = await call<{ accessToken: string }>(
    `signing in as ${credentials.email}`,
    `${gatewayUrl}/v1/auth/login`,
    { method: 'POST', body: credentials },
  );
  return { authorization: `Bearer ${accessToken}` };
}

export interface BenchPlatform {
  gatewayUrl: string;
  /** The run's own database, for seeding under the services' feet. */
  databaseUrl: string;
  /** LATTICE_NAMESPACE of this run (prefixes its NATS subjects and rate-limit keys). */
  namespace: string;
  pgSource: string;
  natsSource: string;
  natsUrl: string;
  /** The platform admin's `Authorization` header. */
  adminAuth: Record<string, string>;
  /**
   * Starts another gateway process beside the platform's, configured as it is but with the
   * given entry point (relative to dist/, or to `distDir` when given: another build of the
   * project) and extra environment; returns its URL.
   */
  startGatewayVariant(
    name: string,
    entry: string,
    env: Record<string, string>,
    distDir?: string,
  ): Promise<string>;
  /** The process of the platform's gateway, or of a variant, that serves `url`. */
  pidOf(url: string): number | undefined;
}

/**
 * The whole platform on a database of its own, as the launcher starts it, quiet but for
 * warnings; `env` goes to every service. Stopped, and the database dropped, at cleanup.
 */
export async function startBenchPlatform(
  cleanup: Cleanup,
  options: { env?: Record<string, string> } = {},
): Promise<BenchPlatform> {
  const pg = await findPostgres(cleanup);
  const databaseUrl = await createDatabase(pg.url, cleanup);
  const nats = await findNats(cleanup);

  const admin = { email: 'bench@lattice.local', password: hex(12) };
  const namespace = `bench${hex(4)}`;
  // dist/, where this file runs from dist/bench/support/
  const distDir = path.resolve(__dirname, '..', '..');
  const platform = await startPlatform({
    databaseUrl,
    natsUrl: nats.url,
    internalSecret: hex(24),
    kek: KeyRing.generateSpec('bench'),
    admin,
    appPassword: hex(12),
    namespace,
    // every port free, so a bench runs beside anything else on the machine
    ...(await freePlatformPorts()),
    logLevel: 'warn',
    env: options.env,
    log: () => undefined,
    distDir,
  });
  cleanup.add('platform', () => platform.stop());

  const gateway = platform.services.find((s) => s.spec.name === 'gateway')!;
  const gateways = new Map([[platform.gatewayUrl, gateway]]);
  const startGatewayVariant = async (
    name: string,
    entry: string,
    env: Record<string, string>,
    variantDist = distDir,
  ) => {
    const port = await freePort();
    const variant = new ServiceProcess(
      {
        name,
        entry,
        env: { ...gateway.spec.env, ...env, GATEWAY_PORT: String(port) },
        readyUrl: `http://127.0.0.1:${port}/readyz`,
      },
      variantDist,
      (_service, line) => {
        if (line.includes('"level":50') || line.includes('"level":60')) say(`${name}: ${line}`);
      },
    );
    variant.start();
    cleanup.add(name, () => variant.stop());
    await variant.waitReady();
    const url = `http://127.0.0.1:${port}`;
    gateways.set(url, variant);
    return url;
  };

  return {
    gatewayUrl: platform.gatewayUrl,
    databaseUrl,
    namespace,
    pgSource: pg.source,
    natsSource: nats.source,
    natsUrl: nats.url,
    adminAuth: await login(platform.gatewayUrl, { tenant: 'platform', ...admin }),
    startGatewayVariant,
    pidOf: (url) => gateways.get(url)?.pid,
  };
}

/**
 * Starts bench/support/bare-server.js (from dist/) in a process of its own with `env`, and
 * waits for it to say it serves; answers the port it listens on (0 for the NATS responder)
 * and its process.
 */
export async function startBareProcess(
  cleanup: Cleanup,
  name: string,
  env: Record<string, string>,
): Promise<{ port: number; pid: number | undefined }> {
  const entry = path.resolve(__dirname, 'bare-server.js');
  const child = spawn(process.execPath, [entry], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanup.add(name, async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });
  const lines = createInterface({ input: child.stdout });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it served`)));
    lines.on('line', (line) => {
      const ready = /^ready (\d+)$/.exec(line);
      if (ready) resolve({ port: Number(ready[1]), pid: child.pid });
    });
  });
}
