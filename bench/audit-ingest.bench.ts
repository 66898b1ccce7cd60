/**
 * `npm run bench:audit`: how fast the audit service writes events from the AUDIT stream into
 * PostgreSQL, against how fast PostgreSQL itself takes the very same rows on this machine:
 * `COPY` into `audit.events` (every index, no chain work) and `COPY` into a copy of the table
 * without indexes. The ingest rate reads as a fraction of those limits.
 *
 * Each round runs every target once, one after the other (the order alternating between
 * rounds), so machine noise hits them alike; the figures are medians over the rounds with
 * their spread (min-max), and each ratio is taken within a round before its median. Beside
 * the rates, the CPU each event cost (the audit service's process, and its PostgreSQL
 * backends; the backend of each COPY per row), read from /proc where PostgreSQL runs on this
 * machine: a cost that other load on the machine moves far less than it moves rates. Then one
 * run of one INSERT and commit per event (AUDIT_BATCH_SIZE=1), and what
 * `AuditRecorder.record` adds to a request path. Prints figures only, never pass/fail.
 *
 * BENCH_AUDIT_EVENTS: events timed per ingest run (default 60000; at most 5000 for the per-event
 *   run), and never fewer than ten of the run's batches.
 * BENCH_AUDIT_WARMUP: events every ingest run writes before its timing starts (default 50000;
 *   at most 500 for the per-event run), and never fewer than three of the run's batches, so
 *   that the figures are of a service in its steady state: one process's CPU per event fell
 *   from 68 µs over its first 20,000 events to 51 µs over the next 20,000 and 35-45 µs past
 *   60,000; and a batch of the size of the warm-up is written, whole, as the timing starts,
 *   with the next one already read and sealed (with a warm-up of 10,000 and 20,000 timed, a
 *   batch of 20,000 showed 25 µs of CPU per event, against 38 µs over 200,000).
 * BENCH_AUDIT_ROUNDS: rounds (default 3), after one untimed run (the first run against a fresh
 *   database was the slowest of every invocation, whichever build ran it).
 * BENCH_AUDIT_BASELINE: the dist/ folder of another build of this repository (say, the
 *   commit before a change, built with `npm run build`); its audit service then runs beside
 *   this build's in every round, on the same database, and the ratio of the two is printed.
 * BENCH_AUDIT_TRAIL: events each tenant's trail holds before one more run per build (default
 *   100000; 0 leaves that run out), with the planner's statistics from before those trails were
 *   written, as for a tenant whose trail grew since the last ANALYZE: whether a batch costs more
 *   as the trail it extends grows.
 * BENCH_AUDIT_SINGLE=0 leaves the per-event run out.
 * BENCH_AUDIT_BATCHES: other batch sizes (AUDIT_BATCH_SIZE, comma-separated) this build also
 *   runs with in every round, beside its default, each printed with the most memory its
 *   service held: what a larger batch buys, and what it costs.
 * BENCH_AUDIT_REPLICAS: audit service processes sharing the durable consumer in every ingest
 *   run (default 1), as a deployment scaled out on its backlog runs them; their CPU is summed.
 * BENCH_AUDIT_CONSUMER_EVENTS: events the batch consumer alone reads in each of its runs
 *   (default 100000; 0 leaves them out): `DurableBatchConsumer` in this process, at the service's
 *   batch size and batches in flight, with a handler that does nothing, so its rate and CPU per
 *   message are those of reading, checking against the contract and acking; the baseline's
 *   consumer runs in the same rounds.
 */
import { KeyRing } from '@lattice/secrets';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { NatsConnection } from 'nats';
import { Client } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import pino from 'pino';
import { AuditEvents, AuditStream, type AuditEvent } from '@lattice/contracts';
import { freePort } from '@lattice/local-infra';
import {
  AuditRecorder,
  DurableBatchConsumer,
  JetStreamPublisher,
  SubjectNamespace,
  connectNats,
  ensureAuditStream,
} from '@lattice/messaging';
import { TEST_APP_PASSWORD, provideInfrastructure } from '@lattice/testing';
import { platformIdentities } from '../tools/launcher/src/platform';
import { ServiceProcess } from '../tools/launcher/src/service-process';
import { auditConfigSpec } from '../apps/audit/src/audit.config';
import { cpuSeconds, peakRssMib } from './support/process-cpu';

/** A context key of the audit service's own, for this run. */
const auditContextEnv = () => platformIdentities({})('audit');

const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 60_000) || 60_000;
const WARMUP = Math.max(0, Number(process.env.BENCH_AUDIT_WARMUP ?? 50_000) || 0);
const ROUNDS = Number(process.env.BENCH_AUDIT_ROUNDS ?? 3) || 3;
const BASELINE = process.env.BENCH_AUDIT_BASELINE
  ? path.resolve(process.env.BENCH_AUDIT_BASELINE)
  : null;
const SINGLE = process.env.BENCH_AUDIT_SINGLE !== '0';
const TRAIL = Math.max(0, Number(process.env.BENCH_AUDIT_TRAIL ?? 100_000) || 0);
const REPLICAS = Math.max(1, Number(process.env.BENCH_AUDIT_REPLICAS ?? 1) || 1);
const CONSUMER_EVENTS = Math.max(
  0,
  Number(process.env.BENCH_AUDIT_CONSUMER_EVENTS ?? 100_000) || 0,
);
const BATCHES = (process.env.BENCH_AUDIT_BATCHES ?? '')
  .split(',')
  .map((b) => Number(b.trim()))
  .filter((b) => Number.isInteger(b) && b > 0);
const THIS_BUILD = path.resolve(__dirname, '..');
const RECORD_CALLS = 50_000;
const TENANTS = 4;
/** The service's own batch size, where AUDIT_BATCH_SIZE is unset. */
const DEFAULT_BATCH = auditConfigSpec.AUDIT_BATCH_SIZE.schema.parse(undefined);
const DEFAULT_IN_FLIGHT = auditConfigSpec.AUDIT_BATCHES_IN_FLIGHT.schema.parse(undefined);

/**
 * Events warmed up and timed in a run at `batch`: at least three batches before the timing
 * starts (the batches in flight and the one being read) and ten within it, so that no batch
 * straddling the start weighs much in the figures.
 */
function runSize(batch: number | null): { events: number; warmup: number } {
  const size = batch ?? DEFAULT_BATCH;
  return { events: Math.max(EVENTS, 10 * size), warmup: Math.max(WARMUP, 3 * size) };
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The columns of `audit.events`, in the order the COPY runs read and write them. */
const COLUMNS = `tenant_id, seq, id, occurred_at, recorded_at, actor_type, actor_id, actor_key,
  actor_sealed, actor_roles, action, resource_type, resource_id, outcome, source_ip, user_agent,
  request_id, trace_id, metadata, personal, subject_key, prev_hash, hash`;

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

/** Makes the namespace's AUDIT stream and puts `n` events of fresh tenants in it; the tenants. */
async function fillStream(nc: NatsConnection, ns: SubjectNamespace, n: number): Promise<string[]> {
  await ensureAuditStream(nc, ns);
  const publisher = new JetStreamPublisher(nc, ns);
  const tenants = Array.from({ length: TENANTS }, () => randomUUID());
  for (let i = 0; i < n; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, n - i) }, (_, j) => {
        const e = event(tenants[(i + j) % tenants.length]!, i + j);
        return publisher.publish(AuditEvents, e, e.id, e.tenantId);
      }),
    );
  }
  return tenants;
}

/** Removes the namespace's AUDIT stream and closes the connection that used it. */
async function dropStream(nc: NatsConnection, ns: SubjectNamespace): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.delete(ns.stream(AuditStream.name)).catch(() => undefined);
  await nc.drain();
}

/**
 * Events stored in these tenants' chains: their heads' positions, which a batch moves in the
 * transaction that writes its rows (counting the rows would scan every trail, 50 times a second).
 */
async function count(db: Client, tenants: string[]): Promise<number> {
  try {
    const { rows } = await db.query(
      `SELECT coalesce(sum(seq), 0)::int AS n FROM audit.chain_heads WHERE tenant_id = ANY($1::uuid[])`,
      [tenants],
    );
    return rows[0].n as number;
  } catch (error) {
    // the service has not created its schema yet
    if ((error as { code?: string }).code === '42P01') return 0;
    throw error;
  }
}

interface Infra {
  natsUrl: string;
  databaseUrl: string;
  db: Client;
}

/** CPU seconds used so far by every other PostgreSQL backend connected to this database. */
async function backendsCpu(db: Client): Promise<Map<number, number> | null> {
  const { rows } = await db.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
  );
  const used = new Map<number, number>();
  for (const { pid } of rows) {
    const seconds = cpuSeconds(pid);
    if (seconds === null) return null;
    used.set(pid, seconds);
  }
  return used;
}

/** CPU seconds the backends used between two readings (a backend new since counts in full). */
function backendsDelta(before: Map<number, number> | null, after: Map<number, number> | null) {
  if (!before || !after) return null;
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

interface IngestRun {
  /** Every event of the run, the warm-up's included. */
  events: number;
  /** The events written after the warm-up: what `seconds` and the CPU cover. */
  timed: number;
  seconds: number;
  tenants: string[];
  /** CPU microseconds per event of the audit service's process, and of its PostgreSQL backends. */
  serviceCpu: number | null;
  postgresCpu: number | null;
  /** The most resident memory any of the run's service processes held, in MiB. */
  peakRssMib: number | null;
}

/**
 * Gives each tenant a trail of `length` events stored before the run, written as the owner in
 * one statement per tenant (their hashes are not linked: ingest reads only the head), and moves
 * its chain head to the last of them.
 */
async function writeTrails(db: Client, tenants: string[], length: number): Promise<void> {
  for (const tenant of tenants) {
    await db.query(
      `INSERT INTO audit.events (tenant_id, seq, id, occurred_at, recorded_at, actor_type,
         actor_id, actor_roles, action, resource_type, resource_id, outcome, metadata, personal,
         prev_hash, hash)
       SELECT $1, s, gen_random_uuid(), now(), now(), 'user', 'actor-' || s % 50, '["developer"]',
              'jobs.create', 'Job', 'job-' || s, 'success', '{"queue":"default"}', '[]',
              md5((s - 1)::text), md5(s::text)
         FROM generate_series(1, $2::bigint) AS s`,
      [tenant, length],
    );
    await db.query(
      `INSERT INTO audit.chain_heads (tenant_id, seq, hash) VALUES ($1, $2::bigint, md5($2::text))`,
      [tenant, length],
    );
  }
  // their pages written out now, not by a checkpoint during the timed run
  await db.query('CHECKPOINT');
}

/**
 * Fills the stream while no audit service runs (`warmup` events, then `n`: by default what
 * `runSize` gives for the batch size), migrates the
 * database, starts `replicas` of the service (of the build in `distDir`) at once and, from the
 * moment the warm-up's events are written, times them to the last written row: the sustained
 * rate of the consumers and PostgreSQL together, with neither the start-up nor the first
 * events (run before the code is compiled) in the time or the CPU.
 */
async function ingestRun(
  distDir: string,
  batchSize: number | null,
  infra: Infra,
  replicas: number,
  trail = 0,
  { events: n, warmup } = runSize(batchSize),
): Promise<IngestRun> {
  const total = warmup + n;
  const namespace = `bench${hex(4)}`;
  const ns = new SubjectNamespace(namespace);
  const nc = await connectNats(infra.natsUrl, 'audit-bench');
  const tenants = await fillStream(nc, ns, total);
  const env = {
    NATS_URL: infra.natsUrl,
    LATTICE_NAMESPACE: namespace,
    LATTICE_INTERNAL_SECRET: hex(24),
    ...auditContextEnv(),
    DATABASE_URL: infra.databaseUrl,
    DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
    // unset: the service's own default
    ...(batchSize !== null ? { AUDIT_BATCH_SIZE: String(batchSize) } : {}),
    AUDIT_CHECKPOINT_KEY: generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
    LATTICE_KEK: KeyRing.generateSpec('bench'),
    LOG_LEVEL: 'warn',
  };
  const entry = path.join(distDir, 'apps', 'audit', 'src', 'main.js');
  execFileSync(process.execPath, [entry, '--migrate-only'], {
    env: { ...process.env, ...env, AUDIT_HTTP_PORT: '0' },
    stdio: 'ignore',
  });
  if (trail > 0) await writeTrails(infra.db, tenants, trail);
  const services: ServiceProcess[] = [];
  const spawn = async () => {
    const port = await freePort();
    const service = new ServiceProcess(
      {
        name: 'audit',
        entry: path.join('apps', 'audit', 'src', 'main.js'),
        env: { ...env, AUDIT_HTTP_PORT: String(port) },
        readyUrl: `http://127.0.0.1:${port}/readyz`,
      },
      distDir,
      (_, line) => say(`  audit: ${line}`),
    );
    services.push(service);
    service.start();
    await service.waitReady();
  };
  try {
    await Promise.all(Array.from({ length: replicas }, () => spawn()));
    const serviceCpu = () => {
      let total = 0;
      for (const service of services) {
        const used = service.pid ? cpuSeconds(service.pid) : null;
        if (used === null) return null;
        total += used;
      }
      return total;
    };
    const waitFor = async (rows: number) => {
      while ((await count(infra.db, tenants)) < rows) await new Promise((r) => setTimeout(r, 20));
    };
    const stored = trail * tenants.length;
    await waitFor(stored + warmup);
    const before = await count(infra.db, tenants);
    const atStart = { service: serviceCpu(), backends: await backendsCpu(infra.db) };
    const started = performance.now();
    await waitFor(stored + total);
    const seconds = (performance.now() - started) / 1000;
    const serviceAtEnd = serviceCpu();
    const peaks = services.map((service) => (service.pid ? peakRssMib(service.pid) : null));
    const postgres = backendsDelta(atStart.backends, await backendsCpu(infra.db));
    const timed = stored + total - before;
    const perEvent = (cpu: number | null) => (cpu === null ? null : (cpu * 1e6) / timed);
    return {
      events: total,
      timed,
      seconds,
      tenants,
      serviceCpu:
        serviceAtEnd === null || atStart.service === null
          ? null
          : perEvent(serviceAtEnd - atStart.service),
      postgresCpu: perEvent(postgres),
      peakRssMib: peaks.some((p) => p === null) ? null : Math.max(...(peaks as number[])),
    };
  } finally {
    await Promise.all(services.map((service) => service.stop()));
    await dropStream(nc, ns);
  }
}

/** The rows an ingest run wrote, as COPY text, under fresh tenant and event ids. */
async function rowsOf(db: Client, tenants: string[]): Promise<Buffer> {
  const list = tenants.map((t) => `'${t}'`).join(',');
  const chunks: Buffer[] = [];
  const out = db.query(
    copyTo(
      `COPY (SELECT ${COLUMNS} FROM audit.events WHERE tenant_id IN (${list}) ORDER BY tenant_id, seq) TO STDOUT`,
    ),
  );
  for await (const chunk of out) chunks.push(chunk as Buffer);
  const renamed = new Map(tenants.map((t) => [t, randomUUID()]));
  // COPY text escapes tabs and newlines inside values, so both split fields and rows safely
  const lines = Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const fields = line.split('\t');
      fields[0] = renamed.get(fields[0]!)!;
      fields[2] = randomUUID();
      return fields.join('\t');
    });
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

/**
 * One COPY of `rows` into `table`, committed: rows per second, and CPU microseconds per row of
 * the PostgreSQL backend that took them.
 */
async function copyRate(
  db: Client,
  table: string,
  rows: Buffer,
  n: number,
): Promise<{ rate: number; cpu: number | null }> {
  const { rows: me } = await db.query<{ pid: number }>(`SELECT pg_backend_pid() AS pid`);
  const cpuBefore = cpuSeconds(me[0]!.pid);
  const started = performance.now();
  const chunks = Array.from({ length: Math.ceil(rows.length / 65_536) }, (_, i) =>
    rows.subarray(i * 65_536, (i + 1) * 65_536),
  );
  await pipeline(
    Readable.from(chunks),
    db.query(copyFrom(`COPY ${table} (${COLUMNS}) FROM STDIN`)),
  );
  const rate = n / ((performance.now() - started) / 1000);
  const cpuAfter = cpuSeconds(me[0]!.pid);
  const cpu = cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1e6) / n;
  return { rate, cpu };
}

/** PostgreSQL's own speed for the rows of an ingest run: into the same table, and unindexed. */
async function copyRuns(
  db: Client,
  run: IngestRun,
): Promise<{
  indexed: { rate: number; cpu: number | null };
  bare: { rate: number; cpu: number | null };
}> {
  const rows = await rowsOf(db, run.tenants);
  // the owner bypasses row-level security, which COPY FROM does not support
  const indexed = await copyRate(db, 'audit.events', rows, run.events);
  await db.query(`DROP TABLE IF EXISTS public.bench_events_unindexed`);
  await db.query(`CREATE TABLE public.bench_events_unindexed (LIKE audit.events)`);
  const bare = await copyRate(db, 'public.bench_events_unindexed', rows, run.events);
  await db.query(`DROP TABLE public.bench_events_unindexed`);
  return { indexed, bare };
}

/** The median of some figures with their spread. */
function summary(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

const fmtRate = (v: number) => Math.round(v).toLocaleString('en-US');
const rateLine = (label: string, values: number[], unit: string) => {
  const s = summary(values);
  return `  ${label.padEnd(50)} ${fmtRate(s.median).padStart(8)} ${unit}  (${fmtRate(s.min)}-${fmtRate(s.max)})`;
};
const ratioLine = (label: string, values: number[]) => {
  const s = summary(values);
  return `  ${label.padEnd(50)} ${s.median.toFixed(2).padStart(8)}x  (${s.min.toFixed(2)}-${s.max.toFixed(2)})`;
};

/** A build's batch consumer, loaded from its dist/ folder. */
type BatchConsumerClass = typeof DurableBatchConsumer;
const consumerOf = async (dist: string): Promise<BatchConsumerClass> =>
  (
    (await import(path.join(dist, 'libs', 'messaging', 'src', 'batch-consumer.js'))) as {
      DurableBatchConsumer: BatchConsumerClass;
    }
  ).DurableBatchConsumer;

/**
 * The batch consumer of one build alone: `n` events put in a stream of their own, then read by
 * it in this process with a handler that does nothing, to the last message handed over. Its
 * rate, and this process's CPU per message while it ran (reading, the contract's check, acks).
 */
async function consumerRun(
  Consumer: BatchConsumerClass,
  natsUrl: string,
  n: number,
): Promise<{ rate: number; cpu: number }> {
  const nc = await connectNats(natsUrl, 'audit-bench-consumer');
  const ns = new SubjectNamespace(`bench${hex(4)}`);
  await fillStream(nc, ns, n);
  let handed = 0;
  let all!: () => void;
  const done = new Promise<void>((resolve) => (all = resolve));
  const consumer = new Consumer(nc, ns, {
    contract: AuditEvents,
    durable: 'bench-consumer',
    logger: pino({ level: 'silent' }),
    batch: DEFAULT_BATCH,
    inFlight: DEFAULT_IN_FLIGHT,
    handleBatch: async (events) => {
      handed += events.length;
      if (handed >= n) all();
    },
  });
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  try {
    await consumer.start();
    await done;
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    return { rate: n / seconds, cpu: (cpu.user + cpu.system) / n };
  } finally {
    await consumer.stop();
    await dropStream(nc, ns);
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
    say(
      `events: ${EVENTS} timed per ingest run, after ${WARMUP} to warm up, over ${TENANTS} tenants, ${ROUNDS} rounds; ` +
        `batch size: the service's default${BATCHES.length > 0 ? `, and ${BATCHES.join(', ')}` : ''}; ` +
        `${REPLICAS} audit service process${REPLICAS > 1 ? 'es' : ''} per run`,
    );
    for (const batch of BATCHES) {
      const size = runSize(batch);
      if (size.events !== EVENTS || size.warmup !== WARMUP)
        say(
          `batch ${batch}: ${size.events} events timed after ${size.warmup} (ten batches timed, three to warm up)`,
        );
    }
    if (BASELINE) say(`baseline build: ${BASELINE}`);
    say('');
    const ctx: Infra = { natsUrl: infra.natsUrl, databaseUrl: url.toString(), db };
    const builds: { label: string; dist: string; batch: number | null }[] = [
      { label: 'this build', dist: THIS_BUILD, batch: null },
    ];
    if (BASELINE) builds.push({ label: 'baseline', dist: BASELINE, batch: null });
    for (const batch of BATCHES)
      builds.push({ label: `this build, batch ${batch}`, dist: THIS_BUILD, batch });
    const series = () => new Map<string, number[]>(builds.map((b) => [b.label, []]));
    const ingest = series();
    const ofCopy = series();
    const ofBare = series();
    // CPU microseconds per event: less at the mercy of other load than rates are
    const serviceCpu = series();
    const postgresCpu = series();
    const peakRss = series();
    // each other batch size's rate over the default's, in the same round
    const overDefault = new Map(
      builds.filter((b) => b.batch !== null).map((b) => [b.label, [] as number[]]),
    );
    const speedUp: number[] = [];
    const cpuSaving: number[] = [];
    const indexed: number[] = [];
    const bare: number[] = [];
    const copyCpu: number[] = [];
    const bareCpu: number[] = [];
    const cpuText = (r: IngestRun) =>
      r.serviceCpu === null
        ? ''
        : ` [cpu/event: service ${r.serviceCpu.toFixed(0)} µs` +
          (r.postgresCpu === null ? '' : `, postgres ${r.postgresCpu.toFixed(0)} µs`) +
          (r.peakRssMib === null ? ']' : `; service peak RSS ${r.peakRssMib.toFixed(0)} MiB]`);
    // the first run against a fresh database and stream was the slowest of every invocation,
    // whichever build it was: one run, untimed, takes that place
    await ingestRun(THIS_BUILD, null, ctx, REPLICAS, 0, {
      events: Math.round(EVENTS / 10),
      warmup: Math.round(WARMUP / 5),
    });
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 ? builds : [...builds].reverse();
      const runs = new Map<string, IngestRun>();
      for (const build of order) {
        runs.set(build.label, await ingestRun(build.dist, build.batch, ctx, REPLICAS));
      }
      // PostgreSQL's own speed for the rows this build writes, whichever build ran last
      const copy = await copyRuns(db, runs.get('this build')!);
      indexed.push(copy.indexed.rate);
      bare.push(copy.bare.rate);
      if (copy.indexed.cpu !== null) copyCpu.push(copy.indexed.cpu);
      if (copy.bare.cpu !== null) bareCpu.push(copy.bare.cpu);
      const rate = (r: IngestRun) => r.timed / r.seconds;
      const allCpu = (r: IngestRun) =>
        r.serviceCpu === null || r.postgresCpu === null ? null : r.serviceCpu + r.postgresCpu;
      for (const [label, run] of runs) {
        ingest.get(label)!.push(rate(run));
        ofCopy.get(label)!.push(rate(run) / copy.indexed.rate);
        ofBare.get(label)!.push(rate(run) / copy.bare.rate);
        if (run.serviceCpu !== null) serviceCpu.get(label)!.push(run.serviceCpu);
        if (run.postgresCpu !== null) postgresCpu.get(label)!.push(run.postgresCpu);
        if (run.peakRssMib !== null) peakRss.get(label)!.push(run.peakRssMib);
      }
      for (const [label, ratios] of overDefault) {
        ratios.push(rate(runs.get(label)!) / rate(runs.get('this build')!));
      }
      if (BASELINE) {
        const mine = runs.get('this build')!;
        const theirs = runs.get('baseline')!;
        speedUp.push(rate(mine) / rate(theirs));
        const [a, b] = [allCpu(mine), allCpu(theirs)];
        if (a !== null && b !== null) cpuSaving.push(b / a);
      }
      say(
        `round ${round}: ${[...runs].map(([l, r]) => `ingest (${l}) ${fmtRate(rate(r))}${cpuText(r)}`).join(', ')}, ` +
          `COPY into audit.events ${fmtRate(copy.indexed.rate)}, COPY unindexed ${fmtRate(copy.bare.rate)} rows/s`,
      );
    }
    say('');
    say(`medians of ${ROUNDS} rounds (min-max)`);
    for (const build of builds) {
      say(rateLine(`ingest, ${build.label}`, ingest.get(build.label)!, 'events/s'));
    }
    say(rateLine('COPY into audit.events (no chain)', indexed, 'rows/s'));
    say(rateLine('COPY into an unindexed copy', bare, 'rows/s'));
    for (const build of builds) {
      say(ratioLine(`ingest ${build.label} / COPY`, ofCopy.get(build.label)!));
      say(ratioLine(`ingest ${build.label} / COPY unindexed`, ofBare.get(build.label)!));
    }
    if (BASELINE) say(ratioLine('this build / baseline', speedUp));
    for (const [label, ratios] of overDefault) say(ratioLine(`${label} / default batch`, ratios));
    if (copyCpu.length > 0) {
      say('CPU per event (µs; medians, min-max): what the work costs, whoever else runs');
      for (const build of builds) {
        if (serviceCpu.get(build.label)!.length > 0)
          say(rateLine(`audit service, ${build.label}`, serviceCpu.get(build.label)!, 'µs'));
        if (postgresCpu.get(build.label)!.length > 0)
          say(
            rateLine(
              `its PostgreSQL backends, ${build.label}`,
              postgresCpu.get(build.label)!,
              'µs',
            ),
          );
      }
      say(rateLine('PostgreSQL, COPY into audit.events', copyCpu, 'µs'));
      say(rateLine('PostgreSQL, COPY unindexed', bareCpu, 'µs'));
      for (const build of builds) {
        if (peakRss.get(build.label)!.length > 0)
          say(rateLine(`service peak RSS, ${build.label}`, peakRss.get(build.label)!, 'MiB'));
      }
      if (cpuSaving.length > 0) say(ratioLine('CPU per event, baseline / this build', cpuSaving));
    }
    say('');

    if (TRAIL > 0) {
      // autovacuum would analyze the table while the trails are written
      await db.query(`ALTER TABLE audit.events SET (autovacuum_enabled = false)`);
      say(
        `tenants whose trails already hold ${TRAIL} events each, statistics from before they were written`,
      );
      // the baseline first: the order of the rounds above ended with this build
      for (const build of [...builds].reverse()) {
        const run = await ingestRun(build.dist, build.batch, ctx, REPLICAS, TRAIL);
        say(
          `  ingest (${build.label}) ${fmtRate(run.timed / run.seconds)} events/s${cpuText(run)}`,
        );
      }
      await db.query(`ALTER TABLE audit.events RESET (autovacuum_enabled)`);
      say('');
    }

    if (CONSUMER_EVENTS > 0) {
      const consumers = [{ label: 'this build', Consumer: DurableBatchConsumer }];
      if (BASELINE) consumers.push({ label: 'baseline', Consumer: await consumerOf(BASELINE) });
      say(
        `the batch consumer alone, in this process: ${CONSUMER_EVENTS} events a run, batch ${DEFAULT_BATCH}, ` +
          `${DEFAULT_IN_FLIGHT} in flight, a handler that does nothing; one untimed run each, then ${ROUNDS} rounds`,
      );
      for (const { Consumer } of consumers) {
        await consumerRun(Consumer, infra.natsUrl, Math.round(CONSUMER_EVENTS / 5));
      }
      const rates = new Map(consumers.map((c) => [c.label, [] as number[]]));
      const cpus = new Map(consumers.map((c) => [c.label, [] as number[]]));
      for (let round = 1; round <= ROUNDS; round++) {
        const order = round % 2 ? consumers : [...consumers].reverse();
        for (const { label, Consumer } of order) {
          const run = await consumerRun(Consumer, infra.natsUrl, CONSUMER_EVENTS);
          rates.get(label)!.push(run.rate);
          cpus.get(label)!.push(run.cpu);
        }
      }
      for (const { label } of consumers) {
        say(rateLine(`consumer alone, ${label}`, rates.get(label)!, 'events/s'));
        say(rateLine(`  CPU per message, ${label}`, cpus.get(label)!, 'µs'));
      }
      if (BASELINE) {
        // within each round, as the ingest ratios are
        const mine = cpus.get('this build')!;
        const theirs = cpus.get('baseline')!.map((cpu, round) => cpu / mine[round]!);
        say(ratioLine('consumer CPU per message, baseline / this build', theirs));
      }
      say('');
    }

    if (SINGLE) {
      const single = await ingestRun(THIS_BUILD, 1, ctx, 1, 0, {
        events: Math.min(5_000, EVENTS),
        warmup: Math.min(500, WARMUP),
      });
      const rate = single.timed / single.seconds;
      say(
        `one INSERT per event (AUDIT_BATCH_SIZE=1), this build: ${single.timed} events in ${single.seconds.toFixed(2)} s = ${fmtRate(rate)} events/s; ` +
          `batched ${(summary(ingest.get('this build')!).median / rate).toFixed(1)}x that`,
      );
      say('');
    }
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
