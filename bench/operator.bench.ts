/**
 * `npm run bench:operator`: the scaling operator as a process against a real kube-apiserver
 * and NATS, with BENCH_POLICIES ScalingPolicies (default 1,000) polled every second. Each
 * policy reads two JetStream consumers: its own, and one all of them share. Prints, per build:
 *
 * - how late each policy's reconciles come against its 1-second interval (p50 and p99 over
 *   every policy's gaps between two reads of its own consumer, seen on NATS by subscribing to
 *   the consumer info requests; a gap still open at the end of the window counts too), and
 *   how long the first pass over all policies took (first policy's read to last's);
 * - what the operator asks of the API server at steady state, when nothing changes (writes
 *   and reads per second, from the API server's own apiserver_request_total; the leader
 *   lease's renewals apart), and consumer info requests per second on the shared consumer;
 * - the time from a queue backlog crossing its target to the patch of the target's scale,
 *   for one more policy among the others.
 *
 * BENCH_OPERATOR_BASELINE=<git revision> builds that revision of the operator as well and runs
 * the two alternately (A B B A ...) on the same control plane and policies, BENCH_ROUNDS
 * times (default 3), printing each figure's median over the rounds with its range.
 * BENCH_WINDOW_S sets the steady-state window of a round (default 10), BENCH_LATENCY_RUNS the
 * backlog samples of a round (default 3), BENCH_OPERATOR_NODE_ARGS options of the operator's
 * Node (a CPU profile: `--cpu-prof --cpu-prof-dir=<dir>`). Figures only, never pass/fail.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  loadYaml,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { AckPolicy, JSONCodec, connect, type NatsConnection } from 'nats';
import { startControlPlane, type KubeControlPlane } from '@lattice/kube-test-env';
import { LocalNatsServer, answers, freePort } from '@lattice/local-infra';
import { platformIdentities } from '../tools/launcher/src/platform';

/** A context key of the operator's own, for this run. */
const operatorContextEnv = () => platformIdentities({})('operator');

const ROOT = path.resolve(__dirname, '../..');
const POLICIES = Number(process.env.BENCH_POLICIES ?? 1000) || 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3) || 3;
const WINDOW_MS = (Number(process.env.BENCH_WINDOW_S ?? 10) || 10) * 1000;
const LATENCY_RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 3) || 3;
const BASELINE = process.env.BENCH_OPERATOR_BASELINE;
/** Node options for the operator processes only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
const NODE_ARGS = (process.env.BENCH_OPERATOR_NODE_ARGS ?? '').split(' ').filter(Boolean);
const INTERVAL_MS = 1000;
const json = JSONCodec();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function natsUrl(stops: (() => Promise<void>)[]): Promise<string> {
  if (process.env.NATS_URL) return process.env.NATS_URL;
  if (await answers('127.0.0.1', 4222)) return 'nats://127.0.0.1:4222';
  const server = await LocalNatsServer.start();
  stops.push(() => server.stop());
  return server.url;
}

async function inBatches<T>(
  items: T[],
  size: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

/** The operator of a git revision, built from that revision's sources with this checkout's modules. */
function buildRevision(revision: string): { main: string; cleanUp: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'operator-baseline-'));
  const archive = execFileSync(
    'git',
    ['-C', ROOT, 'archive', revision, 'apps', 'libs', 'tools', '.swcrc'],
    {
      maxBuffer: 1 << 30,
    },
  );
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  execFileSync(
    path.join(ROOT, 'node_modules/.bin/swc'),
    [
      'apps',
      'libs',
      'tools',
      '-d',
      'dist',
      '--quiet',
      '--ignore',
      '**/*.spec.ts',
      '--ignore',
      '**/*.int-spec.ts',
      '--ignore',
      '**/*.k8s-spec.ts',
    ],
    { cwd: dir, stdio: 'inherit' },
  );
  return {
    main: path.join(dir, 'dist/apps/operator/src/main.js'),
    cleanUp: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Totals of the API server's request counter, by verb and resource. */
type RequestCounts = Map<string, number>;

interface Round {
  firstPassS: number;
  latenessP50: number;
  latenessP99: number;
  /** Reconciles a second over all policies, against POLICIES a second asked for. */
  reconcilesPerS: number;
  sharedInfoPerS: number;
  writesPerS: number;
  readsPerS: number;
  writesByResource: string;
  latencies: number[];
  /** The operator's own view: the bucket bounds holding its p50 and p99 lateness (ms). */
  ownLateness?: { p50: number; p99: number };
}

/** The upper bounds (ms) of the buckets holding the p50 and p99 of a histogram's window. */
function histogramQuantiles(
  before: Map<number, number> | undefined,
  after: Map<number, number> | undefined,
): { p50: number; p99: number } | undefined {
  if (!before || !after) return undefined;
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total === 0) return undefined;
  const at = (q: number) => bounds[counts.findIndex((c) => c >= q * total)] * 1000;
  return { p50: at(0.5), p99: at(0.99) };
}

class Bench {
  readonly kc = new KubeConfig();
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  readonly namespace = `bench-${randomBytes(3).toString('hex')}`;
  private operator?: ChildProcess;
  private metricsPort = 0;
  /** When each consumer's info was last asked for, and the times in the current record. */
  private readonly reads = new Map<string, number[]>();

  constructor(
    private readonly plane: KubeControlPlane,
    private readonly nc: NatsConnection,
    private readonly nats: string,
    readonly prefix: string,
  ) {
    this.kc.loadFromString(readFileSync(plane.kubeconfigPath, 'utf8'));
    this.apps = this.kc.makeApiClient(AppsV1Api);
    this.core = this.kc.makeApiClient(CoreV1Api);
    this.custom = this.kc.makeApiClient(CustomObjectsApi);
  }

  get stream(): string {
    return `${this.prefix}_JOBS`;
  }

  async installCrd(): Promise<void> {
    const crd = loadYaml<V1CustomResourceDefinition>(
      readFileSync(path.join(ROOT, 'k8s/crds/scalingpolicies.lattice.dev.yaml'), 'utf8'),
    );
    const api = this.kc.makeApiClient(ApiextensionsV1Api);
    await api.createCustomResourceDefinition({ body: crd });
    for (;;) {
      const got = await api.readCustomResourceDefinition({ name: crd.metadata!.name! });
      if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'))
        return;
      await sleep(100);
    }
  }

  /** The stream, a consumer per policy (its own subject), the shared one and the latency one. */
  async queues(): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    await jsm.streams.add({ name: this.stream, subjects: [`${this.prefix}.jobs.>`] });
    const consumers = [...Array.from({ length: POLICIES }, (_, i) => `q${i}`), 'shared', 'latency'];
    await inBatches(consumers, 50, (c) =>
      jsm.consumers.add(this.stream, {
        durable_name: `${this.prefix}_${c}`,
        ack_policy: AckPolicy.Explicit,
        filter_subject: `${this.prefix}.jobs.${c}`,
      }),
    );
    await this.publish('shared', 5);
    await this.publish('latency', 10);
    // every consumer info request the operator makes, as NATS delivers it
    const infos = this.nc.subscribe(`$JS.API.CONSUMER.INFO.${this.stream}.>`);
    const skip = `$JS.API.CONSUMER.INFO.${this.stream}.${this.prefix}_`.length;
    void (async () => {
      for await (const m of infos) {
        const consumer = m.subject.slice(skip);
        let times = this.reads.get(consumer);
        if (!times) this.reads.set(consumer, (times = []));
        times.push(performance.now());
      }
    })();
  }

  async deleteQueues(): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    await jsm.streams.delete(this.stream).catch(() => undefined);
  }

  async publish(consumer: string, count: number): Promise<void> {
    const js = this.nc.jetstream();
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        js.publish(`${this.prefix}.jobs.${consumer}`, json.encode({ i })),
      ),
    );
  }

  async ack(consumer: string, count: number): Promise<void> {
    const c = await this.nc.jetstream().consumers.get(this.stream, `${this.prefix}_${consumer}`);
    const batch = await c.fetch({ max_messages: count, expires: 2_000 });
    for await (const m of batch) m.ack();
    await this.nc.flush();
  }

  async workload(name: string, metrics: Record<string, unknown>[], over = {}): Promise<void> {
    const namespace = this.namespace;
    await this.apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] },
          },
        },
      },
    });
    await this.custom.createNamespacedCustomObject({
      group: 'lattice.dev',
      version: 'v1alpha1',
      plural: 'scalingpolicies',
      namespace,
      body: {
        apiVersion: 'lattice.dev/v1alpha1',
        kind: 'ScalingPolicy',
        metadata: { name },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
          minReplicas: 1,
          maxReplicas: 10,
          pollingIntervalSeconds: INTERVAL_MS / 1000,
          metrics,
          ...over,
        },
      },
    });
  }

  async policies(): Promise<void> {
    await this.core.createNamespace({ body: { metadata: { name: this.namespace } } });
    const queue = (name: string, consumer: string, targetPerReplica: number) => ({
      name,
      type: 'queue',
      queue: { stream: 'JOBS', consumer, targetPerReplica },
    });
    await inBatches(
      Array.from({ length: POLICIES }, (_, i) => i),
      25,
      (i) => this.workload(`w${i}`, [queue('own', `q${i}`, 10), queue('pool', 'shared', 1000)]),
    );
    await this.workload('latency', [queue('jobs', 'latency', 10)], {
      behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
    });
  }

  async start(main: string): Promise<void> {
    this.reads.clear();
    this.metricsPort = await freePort();
    this.operator = spawn(process.execPath, [...NODE_ARGS, main], {
      env: {
        ...process.env,
        KUBECONFIG: this.plane.kubeconfigPath,
        NATS_URL: this.nats,
        LATTICE_NAMESPACE: this.prefix,
        LATTICE_INTERNAL_SECRET: randomBytes(24).toString('hex'),
        ...operatorContextEnv(),
        OPERATOR_HTTP_PORT: String(this.metricsPort),
        OPERATOR_WATCH_NAMESPACE: this.namespace,
        OPERATOR_LEASE_NAMESPACE: this.namespace,
        OPERATOR_LEASE_DURATION_SECONDS: '10',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }

  async stop(): Promise<void> {
    const child = this.operator;
    if (!child || child.exitCode !== null) return;
    await new Promise((done) => {
      child.once('exit', done);
      child.kill('SIGTERM');
    });
  }

  /**
   * Waits until every policy has read its own consumer; how long that took from the first
   * read of any (the operator's start and its taking the lease left out).
   */
  async firstPass(startedAt: number): Promise<number> {
    const deadline = startedAt + 300_000;
    for (;;) {
      let seen = 0;
      let first = Infinity;
      let last = 0;
      for (let i = 0; i < POLICIES; i++) {
        const at = this.reads.get(`q${i}`)?.[0];
        if (at === undefined) continue;
        seen++;
        first = Math.min(first, at);
        last = Math.max(last, at);
      }
      if (seen === POLICIES) return last - first;
      if (performance.now() > deadline)
        throw new Error(`only ${seen} of ${POLICIES} policies reconciled in 300 s`);
      await sleep(50);
    }
  }

  /** Per-policy lateness over [from, to]: each gap between reads minus the interval. */
  lateness(from: number, to: number): number[] {
    const late: number[] = [];
    for (let i = 0; i < POLICIES; i++) {
      const times = this.reads.get(`q${i}`) ?? [];
      let previous = times.filter((t) => t < from).at(-1) ?? from;
      for (const t of times.filter((t) => t >= from && t <= to)) {
        late.push(Math.max(0, t - previous - INTERVAL_MS));
        previous = t;
      }
      // a gap still open at the end is at least this late already
      if (to - previous > INTERVAL_MS) late.push(to - previous - INTERVAL_MS);
    }
    return late;
  }

  readsOf(consumer: string, from: number, to: number): number {
    return (this.reads.get(consumer) ?? []).filter((t) => t >= from && t <= to).length;
  }

  async requestCounts(): Promise<RequestCounts> {
    const url = new URL('/metrics', this.plane.server);
    const options: import('node:https').RequestOptions = {
      hostname: url.hostname,
      port: url.port,
      path: url.pathname,
    };
    await this.kc.applyToHTTPSOptions(options);
    const text = await new Promise<string>((done, fail) => {
      request(options, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => done(body));
      })
        .on('error', fail)
        .end();
    });
    const counts: RequestCounts = new Map();
    for (const line of text.split('\n')) {
      if (!line.startsWith('apiserver_request_total{')) continue;
      const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(line)?.[1] ?? '';
      const key = `${label('verb')} ${label('resource')}${label('subresource') ? `/${label('subresource')}` : ''}`;
      counts.set(key, (counts.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
    }
    return counts;
  }

  /**
   * The operator's own lateness histogram (cumulative bucket counts by upper bound), where it
   * has one; undefined for a build without it.
   */
  async ownLateness(): Promise<Map<number, number> | undefined> {
    try {
      const text = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
      const buckets = new Map<number, number>();
      for (const m of text.matchAll(
        /^lattice_operator_reconcile_lateness_seconds_bucket\{le="([^"]+)"\} (\d+)/gm,
      ))
        buckets.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]));
      return buckets.size > 0 ? buckets : undefined;
    } catch {
      return undefined;
    }
  }

  async replicas(name: string): Promise<number | undefined> {
    return (await this.apps.readNamespacedDeploymentScale({ name, namespace: this.namespace })).spec
      ?.replicas;
  }

  /** Backlog crossing its target -> scale patch observed, LATENCY_RUNS times. */
  async reactionTimes(): Promise<number[]> {
    const samples: number[] = [];
    for (let run = 0; run < LATENCY_RUNS; run++) {
      while ((await this.replicas('latency')) !== 1) await sleep(100);
      // a reconcile has seen the backlog at its target; then cross it at a random moment of
      // the interval, as a backlog does
      const since = performance.now();
      while (this.readsOf('latency', since + 1, Infinity) < 1) await sleep(50);
      await sleep(Math.random() * INTERVAL_MS);
      const crossed = performance.now();
      await this.publish('latency', 5); // 15 waiting against a target of 10 per replica
      // the patch is observed by polling the scale every 10 ms: the figure is good to ~10 ms
      while ((await this.replicas('latency')) === 1) await sleep(10);
      samples.push(performance.now() - crossed);
      await this.ack('latency', 5);
    }
    return samples;
  }
}

const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'APPLY']);
const READ_VERBS = new Set(['GET', 'LIST']);

function delta(before: RequestCounts, after: RequestCounts) {
  let writes = 0;
  let reads = 0;
  const byResource = new Map<string, number>();
  for (const [key, total] of after) {
    const n = total - (before.get(key) ?? 0);
    if (n <= 0) continue;
    const [verb, resource] = key.split(' ');
    // the leader lease's renewals, and the API server's own bookkeeping, are not the policies'
    if (resource.startsWith('leases') || resource.startsWith('endpoint')) continue;
    if (WRITE_VERBS.has(verb)) {
      writes += n;
      byResource.set(key, n);
    } else if (READ_VERBS.has(verb)) reads += n;
  }
  return { writes, reads, byResource };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function round(bench: Bench, main: string): Promise<Round> {
  const startedAt = performance.now();
  await bench.start(main);
  const firstPassMs = await bench.firstPass(startedAt);
  await sleep(3_000); // past the first pass's writes
  const from = performance.now();
  const before = await bench.requestCounts();
  const ownBefore = await bench.ownLateness();
  await sleep(WINDOW_MS);
  const ownAfter = await bench.ownLateness();
  const after = await bench.requestCounts();
  const to = performance.now();
  const late = bench.lateness(from, to).sort((a, b) => a - b);
  const seconds = (to - from) / 1000;
  let own = 0;
  for (let i = 0; i < POLICIES; i++) own += bench.readsOf(`q${i}`, from, to);
  const api = delta(before, after);
  const latencies = await bench.reactionTimes();
  await bench.stop();
  return {
    firstPassS: firstPassMs / 1000,
    latenessP50: quantile(late, 0.5),
    latenessP99: quantile(late, 0.99),
    reconcilesPerS: own / seconds,
    sharedInfoPerS: bench.readsOf('shared', from, to) / seconds,
    writesPerS: api.writes / seconds,
    readsPerS: api.reads / seconds,
    writesByResource:
      [...api.byResource].map(([k, n]) => `${k} ${(n / seconds).toFixed(1)}/s`).join(', ') ||
      'none',
    latencies,
    ownLateness: histogramQuantiles(ownBefore, ownAfter),
  };
}

const median = (xs: number[]) =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
function figure(xs: number[], digits = 0): string {
  const sorted = [...xs].sort((a, b) => a - b);
  return `${median(sorted).toFixed(digits)} (${sorted[0].toFixed(digits)}-${sorted[sorted.length - 1].toFixed(digits)})`;
}

function report(name: string, rounds: Round[]): void {
  const latencies = rounds.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const line = (label: string, value: string) => console.log(`  ${label.padEnd(56)} ${value}`);
  const of = (pick: (r: Round) => number, digits = 0) => figure(rounds.map(pick), digits);
  console.log(`\n${name}: ${rounds.length} rounds, median (range) over rounds`);
  line(
    `first pass over ${POLICIES} policies, first to last (s)`,
    of((r) => r.firstPassS, 2),
  );
  line(
    'lateness against the 1 s interval, p50 (ms)',
    of((r) => r.latenessP50),
  );
  line(
    'lateness against the 1 s interval, p99 (ms)',
    of((r) => r.latenessP99),
  );
  const own = rounds.map((r) => r.ownLateness).filter((o) => o !== undefined);
  if (own.length > 0)
    line(
      "lateness, operator's own histogram, p50 / p99 (ms, <=)",
      `${figure(own.map((o) => o.p50))} / ${figure(own.map((o) => o.p99))}`,
    );
  line(
    `reconciles per second (${POLICIES} asked for)`,
    of((r) => r.reconcilesPerS),
  );
  line(
    'shared consumer: info requests per second',
    of((r) => r.sharedInfoPerS, 1),
  );
  line(
    'API writes per second at steady state (nothing changes)',
    of((r) => r.writesPerS, 1),
  );
  line(
    'API reads per second at steady state',
    of((r) => r.readsPerS, 1),
  );
  line('writes by resource, last round', rounds.at(-1)!.writesByResource);
  line(
    'backlog crossing its target -> scale patch (ms)',
    `median ${median(latencies).toFixed(0)}, min ${latencies[0].toFixed(0)}, max ${latencies.at(-1)!.toFixed(0)} (${latencies.length} samples)`,
  );
}

async function main(): Promise<void> {
  const stops: (() => Promise<void>)[] = [];
  try {
    const builds: { name: string; main: string }[] = [];
    if (BASELINE) {
      process.stderr.write(`building the operator of ${BASELINE}...\n`);
      const baseline = buildRevision(BASELINE);
      stops.push(async () => baseline.cleanUp());
      builds.push({ name: `before (${BASELINE})`, main: baseline.main });
    }
    builds.push({ name: 'this build', main: path.join(ROOT, 'dist/apps/operator/src/main.js') });

    const nats = await natsUrl(stops);
    process.stderr.write('starting etcd and kube-apiserver...\n');
    const plane = await startControlPlane((line) => process.stderr.write(`${line}\n`));
    stops.push(plane.stop);
    const nc = await connect({ servers: nats });
    stops.push(() => nc.drain());
    const bench = new Bench(plane, nc, nats, `b${randomBytes(3).toString('hex')}`);
    stops.push(() => bench.deleteQueues());
    stops.push(() => bench.stop());
    await bench.installCrd();
    process.stderr.write(`creating ${POLICIES} consumers, Deployments and ScalingPolicies...\n`);
    await bench.queues();
    await bench.policies();

    const results = new Map(builds.map((b) => [b.name, [] as Round[]]));
    for (let r = 0; r < ROUNDS; r++) {
      // A B, then B A: drift of the machine's load over the run weighs on both alike
      const order = r % 2 === 0 ? builds : [...builds].reverse();
      for (const build of order) {
        process.stderr.write(`round ${r + 1}/${ROUNDS}: ${build.name}\n`);
        results.get(build.name)!.push(await round(bench, build.main));
      }
    }

    console.log(
      `\nOperator at ${POLICIES} ScalingPolicies, each polled every second and reading its own JetStream consumer and one shared by all; nothing changes at steady state`,
    );
    for (const build of builds) report(build.name, results.get(build.name)!);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
