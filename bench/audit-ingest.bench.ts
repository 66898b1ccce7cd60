/**
 * `npm run bench:audit`: how fast the audit service writes events from the AUDIT stream into
 * PostgreSQL, batched (AUDIT_BATCH_SIZE=500, one INSERT per batch) against one INSERT and
 * commit per event (AUDIT_BATCH_SIZE=1), in one run on the same database; and what
 * `AuditRecorder.record` adds to a request path. Prints figures only, never pass/fail.
 * BENCH_AUDIT_EVENTS sets the events of the batched run (default 20000; a quarter for the
 * per-event run).
 */
import { KeyRing } from '@lattice/secrets';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { AuditEvents, type AuditEvent } from '@lattice/contracts';
import { freePort } from '@lattice/local-infra';
import {
  AuditRecorder,
  JetStreamPublisher,
  SubjectNamespace,
  connectNats,
  ensureAuditStream,
} from '@lattice/messaging';
import { TEST_APP_PASSWORD, provideInfrastructure } from '@lattice/testing';
import { platformIdentities } from '../tools/launcher/src/platform';
import { ServiceProcess } from '../tools/launcher/src/service-process';

/** A context key of the audit service's own, for this run. */
const auditContextEnv = () => platformIdentities({})('audit');

const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 20_000) || 20_000;
const RECORD_CALLS = 50_000;
const say = (line: string) => process.stdout.write(`${line}\n`);
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

function event(tenantId: string, i: number): AuditEvent {
  return AuditEvents.message.parse({
    id: randomUUID(),
    tenantId,
    occurredAt: new Date().toISOString(),
    actor: { type: i % 2 ? 'user' : 'api-key', id: `actor-${i % 50}`, roles: ['developer'] },
    action: 'jobs.create',
    resource: { type: 'Job', id: `job-${i}` },
    outcome: 'success',
    sourceIp: '203.0.113.9',
    userAgent: 'bench/1.0',
    requestId: `req-${i}`,
    metadata: { queue: 'default', gpus: i % 4 },
  });
}

async function count(db: Client, tenants: string[]): Promise<number> {
  try {
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM audit.events WHERE tenant_id = ANY($1::uuid[])`,
      [tenants],
    );
    return rows[0].n as number;
  } catch (error) {
    // the service has not created its schema yet
    if ((error as { code?: string }).code === '42P01') return 0;
    throw error;
  }
}

interface IngestRun {
  label: string;
  events: number;
  seconds: number;
}

/**
 * Fills the stream while no audit service runs, then starts one and times it from its first
 * written row to its last: the sustained rate of the consumer and PostgreSQL together.
 */
async function ingestRun(
  label: string,
  batchSize: number,
  n: number,
  infra: { natsUrl: string; databaseUrl: string; db: Client },
): Promise<IngestRun> {
  const namespace = `bench${hex(4)}`;
  const ns = new SubjectNamespace(namespace);
  const nc = await connectNats(infra.natsUrl, 'audit-bench');
  await ensureAuditStream(nc, ns);
  const publisher = new JetStreamPublisher(nc, ns);
  const tenants = Array.from({ length: 4 }, () => randomUUID());
  for (let i = 0; i < n; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, n - i) }, (_, j) => {
        const e = event(tenants[(i + j) % tenants.length]!, i + j);
        return publisher.publish(AuditEvents, e, e.id, e.tenantId);
      }),
    );
  }
  await nc.drain();

  const port = await freePort();
  const service = new ServiceProcess(
    {
      name: 'audit',
      entry: path.join('apps', 'audit', 'src', 'main.js'),
      args: ['--migrate'],
      env: {
        NATS_URL: infra.natsUrl,
        LATTICE_NAMESPACE: namespace,
        LATTICE_INTERNAL_SECRET: hex(24),
        ...auditContextEnv(),
        DATABASE_URL: infra.databaseUrl,
        DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
        AUDIT_HTTP_PORT: String(port),
        AUDIT_BATCH_SIZE: String(batchSize),
        AUDIT_CHECKPOINT_KEY: generateKeyPairSync('ed25519')
          .privateKey.export({ type: 'pkcs8', format: 'pem' })
          .toString(),
        LATTICE_KEK: KeyRing.generateSpec('bench'),
        LOG_LEVEL: 'warn',
      },
      readyUrl: `http://127.0.0.1:${port}/readyz`,
    },
    path.resolve(__dirname, '..'),
    (_, line) => say(`  audit: ${line}`),
  );
  service.start();
  try {
    let first = 0;
    for (;;) {
      const written = await count(infra.db, tenants);
      if (written > 0 && !first) first = performance.now();
      if (written >= n) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    return { label, events: n, seconds: (performance.now() - first) / 1000 };
  } finally {
    await service.stop();
  }
}

/** The time `record` takes on the caller's path, call by call, with NATS up. */
async function recordLatency(natsUrl: string) {
  const nc = await connectNats(natsUrl, 'audit-bench-recorder');
  const ns = new SubjectNamespace(`bench${hex(4)}`);
  await ensureAuditStream(nc, ns);
  const recorder = new AuditRecorder(new JetStreamPublisher(nc, ns), {
    logger: pino({ level: 'silent' }),
    maxBuffered: RECORD_CALLS * 2,
  });
  const tenantId = randomUUID();
  const input = {
    tenantId,
    actor: { type: 'user' as const, id: 'u-1', roles: ['developer'] },
    action: 'jobs.create',
    resource: { type: 'Job', id: 'job-1' },
    outcome: 'success' as const,
    sourceIp: '203.0.113.9',
    userAgent: 'bench/1.0',
    metadata: { queue: 'default' },
  };
  for (let i = 0; i < 1_000; i++) recorder.record(input);
  await recorder.flush(30_000);
  const samples = new Float64Array(RECORD_CALLS);
  const started = performance.now();
  for (let i = 0; i < RECORD_CALLS; i++) {
    const t = process.hrtime.bigint();
    recorder.record(input);
    samples[i] = Number(process.hrtime.bigint() - t) / 1_000;
  }
  const callMs = performance.now() - started;
  await recorder.flush(120_000);
  const publishedMs = performance.now() - started;
  await nc.drain();
  samples.sort();
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return { mean, p50: at(0.5), p99: at(0.99), max: at(1), callMs, publishedMs };
}

async function main(): Promise<number> {
  const infra = await provideInfrastructure(say);
  const dbName = `lattice_bench_${hex(6)}`;
  const admin = new Client({ connectionString: infra.postgresUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const url = new URL(infra.postgresUrl);
  url.pathname = `/${dbName}`;
  const db = new Client({ connectionString: url.toString() });
  await db.connect();
  try {
    say(
      `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown cpu'}, node ${process.version}, ${os.platform()} ${os.release()}`,
    );
    say(`events: ${EVENTS} batched, ${Math.round(EVENTS / 4)} one per INSERT; 4 tenants`);
    say('');
    const ctx = { natsUrl: infra.natsUrl, databaseUrl: url.toString(), db };
    const batched = await ingestRun('batched (500 per INSERT)', 500, EVENTS, ctx);
    // the schema exists now; a second service on the same database only adds rows
    const single = await ingestRun('one INSERT per event', 1, Math.round(EVENTS / 4), ctx);
    const rate = (r: IngestRun) => r.events / r.seconds;
    say('ingest into PostgreSQL (hash-chained, from the AUDIT stream)');
    for (const r of [batched, single]) {
      say(
        `  ${r.label.padEnd(26)} ${String(r.events).padStart(6)} events in ${r.seconds.toFixed(2)} s = ${rate(r).toFixed(0)} events/s`,
      );
    }
    say(`  batching speed-up: ${(rate(batched) / rate(single)).toFixed(1)}x`);
    say('');
    const latency = await recordLatency(infra.natsUrl);
    say(`AuditRecorder.record on the request path (${RECORD_CALLS} calls, NATS up)`);
    say(
      `  per call: mean ${latency.mean.toFixed(1)} µs, p50 ${latency.p50.toFixed(1)} µs, p99 ${latency.p99.toFixed(1)} µs, max ${latency.max.toFixed(0)} µs`,
    );
    say(
      `  all calls returned in ${latency.callMs.toFixed(0)} ms; all events in the stream after ${latency.publishedMs.toFixed(0)} ms`,
    );
    return 0;
  } catch (error) {
    say(`bench failed: ${(error as Error).stack ?? error}`);
    return 1;
  } finally {
    await db.end();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
    await infra.stop();
  }
}

void main().then((code) => process.exit(code));
