/**
 * `npm run bench`: GET /v1/tenants/:id through the gateway against a bare Fastify route returning a
 * body of the same size, at a fixed rate and at saturation. Prints figures only, never pass/fail.
 * BENCH_DURATION sets the seconds of each measured run (default 10).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { Client } from 'pg';
import {
  LocalNatsServer,
  answers,
  freePort,
  postgresAnswers,
  startEmbeddedPostgres,
} from '@lattice/local-infra';
import { startPlatform, type RunningPlatform } from '../tools/launcher/src/platform';

const DURATION = Number(process.env.BENCH_DURATION ?? 10) || 10;
const WARMUP_S = 2;
const FIXED_RATE = 500;
const LOCAL_PG = 'postgres://postgres@127.0.0.1:5432/postgres';

interface Row {
  target: string;
  mode: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

function withDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
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

async function drive(
  url: string,
  headers: Record<string, string>,
  mode: 'fixed' | 'saturation',
  duration: number,
): Promise<autocannon.Result> {
  const options: autocannon.Options =
    mode === 'fixed'
      ? { url, headers, connections: 10, overallRate: FIXED_RATE, duration }
      : { url, headers, connections: 50, duration };
  return autocannon(options);
}

async function main(): Promise<number> {
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  const cleanup = async () => {
    for (const { name, stop } of stops.reverse()) {
      await stop().catch((error) => say(`cleanup: ${name} failed: ${(error as Error).message}`));
    }
  };

  try {
    // PostgreSQL: DATABASE_URL, else a local server, else an embedded one
    let serverUrl = process.env.DATABASE_URL;
    let pgSource = 'DATABASE_URL';
    if (!serverUrl) {
      if (await postgresAnswers(LOCAL_PG)) {
        serverUrl = LOCAL_PG;
        pgSource = 'local 127.0.0.1:5432';
      } else {
        const pg = await startEmbeddedPostgres();
        stops.push({ name: 'embedded postgres', stop: pg.stop });
        serverUrl = pg.url;
        pgSource = 'embedded';
      }
    }
    const dbName = `lattice_bench_${hex(6)}`;
    await adminQuery(serverUrl, `CREATE DATABASE "${dbName}"`);
    const adminUrl = serverUrl;
    stops.push({
      name: 'bench database',
      stop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`),
    });

    // NATS: NATS_URL, else a local server, else one of our own
    let natsUrl = process.env.NATS_URL;
    let natsSource = 'NATS_URL';
    if (!natsUrl) {
      if (await answers('127.0.0.1', 4222)) {
        natsUrl = 'nats://127.0.0.1:4222';
        natsSource = 'local 127.0.0.1:4222';
      } else {
        const nats = await LocalNatsServer.start();
        stops.push({ name: 'nats-server', stop: () => nats.stop() });
        natsUrl = nats.url;
        natsSource = 'own nats-server';
      }
    }

    const bootstrapToken = hex(24);
    const platform: RunningPlatform = await startPlatform({
      databaseUrl: withDatabase(serverUrl, dbName),
      natsUrl,
      internalSecret: hex(24),
      bootstrapToken,
      appPassword: hex(12),
      namespace: `bench${hex(4)}`,
      gatewayPort: await freePort(),
      tenantsPort: await freePort(),
      auditPort: await freePort(),
      logLevel: 'warn',
      log: () => undefined,
      distDir: path.resolve(__dirname, '..'),
    });
    stops.push({ name: 'platform', stop: () => platform.stop() });

    const auth = { authorization: `Bearer ${bootstrapToken}` };
    const created = await fetch(`${platform.gatewayUrl}/v1/tenants`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ slug: `bench-${hex(4)}`, name: 'Bench Tenant' }),
    });
    if (created.status !== 201)
      throw new Error(`creating the tenant answered ${created.status}: ${await created.text()}`);
    const tenant = (await created.json()) as { id: string };
    const tenantUrl = `${platform.gatewayUrl}/v1/tenants/${tenant.id}`;
    const sample = await fetch(tenantUrl, { headers: auth });
    const body = (await sample.json()) as Record<string, unknown>;

    // the bare route answers the same object, so both send a body of the same size
    const bare = Fastify({ logger: false });
    bare.get('/v1/tenants/:id', async () => body);
    const barePort = await freePort();
    await bare.listen({ host: '127.0.0.1', port: barePort });
    stops.push({ name: 'bare fastify', stop: () => bare.close() });
    const bareUrl = `http://127.0.0.1:${barePort}/v1/tenants/${tenant.id}`;

    say(
      `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown cpu'}, node ${process.version}, ${os.platform()} ${os.release()}`,
    );
    say(`postgres: ${pgSource}, nats: ${natsSource}, body: ${JSON.stringify(body).length} bytes`);
    say(
      `runs: ${DURATION}s each after ${WARMUP_S}s warm-up; fixed = ${FIXED_RATE} req/s over 10 connections, saturation = 50 connections`,
    );
    say('');

    const targets = [
      { target: 'gateway', url: tenantUrl, headers: auth },
      { target: 'bare', url: bareUrl, headers: auth },
    ];
    const rows: Row[] = [];
    for (const t of targets) {
      await drive(t.url, t.headers, 'saturation', WARMUP_S);
      for (const mode of ['fixed', 'saturation'] as const) {
        const r = await drive(t.url, t.headers, mode, DURATION);
        rows.push({
          target: t.target,
          mode,
          rps: r.requests.average,
          p50: r.latency.p50,
          p99: r.latency.p99,
          non2xx: r.non2xx,
          errors: r.errors + r.timeouts,
        });
      }
    }

    const header = ['target', 'mode', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'];
    const lines = rows.map((r) => [
      r.target,
      r.mode,
      r.rps.toFixed(0),
      r.p50.toFixed(2),
      r.p99.toFixed(2),
      String(r.non2xx),
      String(r.errors),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
    const fmt = (cells: string[]) =>
      cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    say(fmt(header));
    say(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const l of lines) say(fmt(l));
    say('');

    const find = (target: string, mode: string) =>
      rows.find((r) => r.target === target && r.mode === mode)!;
    const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');
    say(
      `gateway/bare saturation throughput: ${ratio(find('gateway', 'saturation').rps, find('bare', 'saturation').rps)}`,
    );
    say(
      `gateway/bare p99 at fixed rate:     ${ratio(find('gateway', 'fixed').p99, find('bare', 'fixed').p99)}`,
    );
    say(
      `gateway/bare p99 at saturation:     ${ratio(find('gateway', 'saturation').p99, find('bare', 'saturation').p99)}`,
    );
    return 0;
  } catch (error) {
    say(`bench failed: ${(error as Error).stack ?? error}`);
    return 1;
  } finally {
    await cleanup();
  }
}

void main().then((code) => process.exit(code));
