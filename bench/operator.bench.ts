/**
 * `npm run bench:operator`: the scaling operator as a process against a real kube-apiserver
 * and NATS. Prints (1) how long one full pass over 1, 100 and 1,000 ScalingPolicies takes and
 * the mean reconcile duration from the operator's own histogram, and (2) the time from a
 * queue backlog crossing its target to the patch of the target's scale, polling every second.
 * Figures only, never pass/fail. BENCH_LATENCY_RUNS sets the samples of (2) (default 5).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
const SIZES = [1, 100, 1000];
const LATENCY_RUNS = Number(process.env.BENCH_LATENCY_RUNS ?? 5) || 5;
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

class Bench {
  readonly kc = new KubeConfig();
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  private operator?: ChildProcess;
  private metricsPort = 0;

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

  async queue(stream: string, consumer: string, pending: number): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    await jsm.streams.add({
      name: `${this.prefix}_${stream}`,
      subjects: [`${this.prefix}.${stream.toLowerCase()}.>`],
    });
    await jsm.consumers.add(`${this.prefix}_${stream}`, {
      durable_name: `${this.prefix}_${consumer}`,
      ack_policy: AckPolicy.Explicit,
    });
    await this.publish(stream, pending);
  }

  async publish(stream: string, count: number): Promise<void> {
    const js = this.nc.jetstream();
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        js.publish(`${this.prefix}.${stream.toLowerCase()}.job`, json.encode({ i })),
      ),
    );
  }

  async ack(stream: string, consumer: string, count: number): Promise<void> {
    const c = await this.nc
      .jetstream()
      .consumers.get(`${this.prefix}_${stream}`, `${this.prefix}_${consumer}`);
    const batch = await c.fetch({ max_messages: count, expires: 2_000 });
    for await (const m of batch) m.ack();
    await this.nc.flush();
  }

  async workload(namespace: string, name: string, policy: Record<string, unknown>): Promise<void> {
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
        spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name }, ...policy },
      },
    });
  }

  async startOperator(watchNamespace: string): Promise<void> {
    this.metricsPort = await freePort();
    this.operator = spawn(process.execPath, [path.join(ROOT, 'dist/apps/operator/src/main.js')], {
      env: {
        ...process.env,
        KUBECONFIG: this.plane.kubeconfigPath,
        NATS_URL: this.nats,
        LATTICE_NAMESPACE: this.prefix,
        LATTICE_INTERNAL_SECRET: randomBytes(24).toString('hex'),
        ...operatorContextEnv(),
        OPERATOR_HTTP_PORT: String(this.metricsPort),
        OPERATOR_WATCH_NAMESPACE: watchNamespace,
        OPERATOR_LEASE_NAMESPACE: watchNamespace,
        OPERATOR_LEASE_DURATION_SECONDS: '10',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }

  async stopOperator(): Promise<void> {
    const child = this.operator;
    if (!child || child.exitCode !== null) return;
    await new Promise((done) => {
      child.once('exit', done);
      child.kill('SIGTERM');
    });
  }

  async histogram(): Promise<{ sum: number; count: number }> {
    for (;;) {
      try {
        const text = await (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text();
        const read = (name: string) =>
          Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? 0);
        return {
          sum: read('lattice_operator_reconcile_duration_seconds_sum'),
          count: read('lattice_operator_reconcile_duration_seconds_count'),
        };
      } catch {
        await sleep(100);
      }
    }
  }

  async reconciled(namespace: string): Promise<number> {
    const list = (await this.custom.listNamespacedCustomObject({
      group: 'lattice.dev',
      version: 'v1alpha1',
      plural: 'scalingpolicies',
      namespace,
    })) as {
      items: { status?: { observedGeneration?: number } }[];
    };
    return list.items.filter((p) => p.status?.observedGeneration).length;
  }
}

async function fullPass(bench: Bench, size: number): Promise<string> {
  const namespace = `bench-${size}-${randomBytes(2).toString('hex')}`;
  await bench.core.createNamespace({ body: { metadata: { name: namespace } } });
  const names = Array.from({ length: size }, (_, i) => `w${i}`);
  await inBatches(names, 25, (name) =>
    bench.workload(namespace, name, {
      minReplicas: 1,
      maxReplicas: 10,
      pollingIntervalSeconds: 3600,
      metrics: [
        {
          name: 'jobs',
          type: 'queue',
          queue: { stream: 'JOBS', consumer: 'workers', targetPerReplica: 10 },
        },
      ],
    }),
  );
  const started = performance.now();
  await bench.startOperator(namespace);
  // the operator's own reconcile counter: cheaper to watch than listing every policy
  let reconciles = await bench.histogram();
  while (reconciles.count < size) {
    await sleep(50);
    reconciles = await bench.histogram();
  }
  const pass = performance.now() - started;
  const { sum, count } = reconciles;
  if ((await bench.reconciled(namespace)) < size)
    throw new Error('a policy has no status after its reconcile');
  await bench.stopOperator();
  return `${String(size).padStart(6)} | ${(pass / 1000).toFixed(2).padStart(14)} | ${((sum / count) * 1000).toFixed(1).padStart(18)} | ${((size * 1000) / pass).toFixed(1).padStart(12)}`;
}

async function reactionTimes(bench: Bench): Promise<number[]> {
  const namespace = `bench-latency-${randomBytes(2).toString('hex')}`;
  await bench.core.createNamespace({ body: { metadata: { name: namespace } } });
  await bench.queue('LATENCY', 'latency', 10);
  await bench.workload(namespace, 'latency', {
    minReplicas: 1,
    maxReplicas: 10,
    pollingIntervalSeconds: 1,
    metrics: [
      {
        name: 'jobs',
        type: 'queue',
        queue: { stream: 'LATENCY', consumer: 'latency', targetPerReplica: 10 },
      },
    ],
    behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
  });
  await bench.startOperator(namespace);
  const replicas = async () =>
    (await bench.apps.readNamespacedDeploymentScale({ name: 'latency', namespace })).spec?.replicas;
  const samples: number[] = [];
  for (let run = 0; run < LATENCY_RUNS; run++) {
    while ((await replicas()) !== 1) await sleep(100);
    await sleep(1_500); // at least one poll sees the backlog at its target
    const crossed = performance.now();
    await bench.publish('LATENCY', 5); // 15 waiting against a target of 10 per replica
    // the patch is observed by polling the scale every 10 ms: the figure is good to ~10 ms
    while ((await replicas()) === 1) await sleep(10);
    samples.push(performance.now() - crossed);
    await bench.ack('LATENCY', 'latency', 5);
  }
  await bench.stopOperator();
  return samples;
}

async function main(): Promise<void> {
  const stops: (() => Promise<void>)[] = [];
  try {
    const nats = await natsUrl(stops);
    process.stderr.write('starting etcd and kube-apiserver...\n');
    const plane = await startControlPlane((line) => process.stderr.write(`${line}\n`));
    stops.push(plane.stop);
    const nc = await connect({ servers: nats });
    stops.push(() => nc.drain());
    const bench = new Bench(plane, nc, nats, `b${randomBytes(3).toString('hex')}`);
    await bench.installCrd();
    await bench.queue('JOBS', 'workers', 25);

    console.log(
      '\nFull reconcile pass (operator process started with the policies in place; each policy: read scale, read a JetStream consumer, patch scale, write status, Event)',
    );
    console.log('policies | pass time (s) | mean reconcile (ms) | policies/s');
    for (const size of SIZES) console.log(await fullPass(bench, size));

    const samples = await reactionTimes(bench);
    const sorted = [...samples].sort((a, b) => a - b);
    console.log('\nBacklog crossing the target -> scale patch observed (pollingIntervalSeconds 1)');
    console.log(
      `runs ${samples.length}: min ${sorted[0].toFixed(0)} ms, median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms, max ${sorted[sorted.length - 1].toFixed(0)} ms`,
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
