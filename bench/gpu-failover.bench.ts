/**
 * `npm run bench:gpu-failover`: the GPU-node service as a process on PostgreSQL and NATS, with
 * a pool of nodes beating as their agents do and callers asking for routes without pause.
 * In each run one node falls silent; the bench prints (1) the time from its last heartbeat to
 * its removal from routing (the first moment the service reports it out), and (2) the routes
 * that still named it: before its removal (the detection window), and after it (must be 0).
 * Figures only, never pass/fail. BENCH_GPU_FAILOVER_RUNS (default 5), BENCH_GPU_INTERVAL_MS
 * (the agents' heartbeat interval, default 1000) and BENCH_GPU_SWEEP_MS (default 100).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import {
  GpuAgentHeartbeat,
  GpuNodesGet,
  GpuNodesRegister,
  GpuRoute,
  SERVICE_NAMES,
  type GpuReading,
} from '@lattice/contracts';
import { freePort } from '@lattice/local-infra';
import { EventBus, RpcClient, SubjectNamespace, connectNats } from '@lattice/messaging';
import {
  ContextSigner,
  newContextKeySet,
  serviceContext,
  type RequestContext,
} from '@lattice/request-context';
import { TEST_APP_PASSWORD, provideInfrastructure } from '@lattice/testing';
import { ServiceProcess } from '../tools/launcher/src/service-process';
import { say, sayMachine } from './support/report';

const RUNS = Number(process.env.BENCH_GPU_FAILOVER_RUNS ?? 5) || 5;
const INTERVAL_MS = Number(process.env.BENCH_GPU_INTERVAL_MS ?? 1_000) || 1_000;
const SWEEP_MS = Number(process.env.BENCH_GPU_SWEEP_MS ?? 100) || 100;
const NODES = 6;
const CALLERS = 8;
const MODEL = 'bench-llm';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const operator = (): RequestContext => ({
  tenantId: null,
  actor: { type: 'user', id: 'bench-sre', roles: ['platform-operator'] },
  requestId: randomUUID(),
});

const card = (node: string, index: number): GpuReading => ({
  uuid: `GPU-${node}-${index}`,
  index,
  model: 'Tesla V100-SXM2-32GB',
  pciBusId: null,
  totalMiB: 32_480,
  usedMiB: 8_000,
  freeMiB: 24_480,
  reservedMiB: 0,
  utilizationPercent: 40,
  temperatureC: 55,
  slowdownTemperatureC: 87,
  powerWatts: 150,
  lastXid: 0,
  eccUncorrectable: 0,
  remappedRowsUncorrectable: 0,
  rowRemapFailed: false,
  lost: false,
});

interface RunResult {
  detectMs: number;
  windowCalls: number;
  afterRemoval: number;
  callsAfter: number;
}

const percentile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function main(): Promise<number> {
  const infra = await provideInfrastructure(say);
  const dbName = `lattice_bench_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: infra.postgresUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const url = new URL(infra.postgresUrl);
  url.pathname = `/${dbName}`;
  const namespace = `bench${randomBytes(4).toString('hex')}`;
  const secret = randomBytes(24).toString('hex');
  // the service signs with its own key; the bench calls as the gateway does
  const keys = newContextKeySet(SERVICE_NAMES);
  const identity = (name: string) => ({
    LATTICE_CONTEXT_KEY: keys.privateKeys[name]!,
    LATTICE_CONTEXT_PUBLIC_KEYS: keys.publicKeys,
  });
  const port = await freePort();
  const service = new ServiceProcess(
    {
      name: 'gpu-nodes',
      entry: path.join('apps', 'gpu-nodes', 'src', 'main.js'),
      args: ['--migrate'],
      env: {
        NATS_URL: infra.natsUrl,
        LATTICE_NAMESPACE: namespace,
        LATTICE_INTERNAL_SECRET: secret,
        ...identity('gpu-nodes'),
        DATABASE_URL: url.toString(),
        DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
        GPU_NODES_HTTP_PORT: String(port),
        GPU_NODES_SWEEP_MS: String(SWEEP_MS),
        LOG_LEVEL: 'warn',
      },
      readyUrl: `http://127.0.0.1:${port}/readyz`,
    },
    path.resolve(__dirname, '..'),
    (_, line) => say(`  gpu-nodes: ${line}`),
  );
  const nc = await connectNats(infra.natsUrl, 'gpu-failover-bench');
  const ns = new SubjectNamespace(namespace);
  const rpc = new RpcClient(nc, ContextSigner.fromConfig('gateway', identity('gateway')), ns);
  const bus = new EventBus(nc, ns, pino({ level: 'silent' }));
  const nodes = Array.from({ length: NODES }, (_, i) => `bench-gpu-${i}`);
  const silent = new Set<string>();
  const lastBeat = new Map<string, number>();
  let stopping = false;
  const timers: NodeJS.Timeout[] = [];
  try {
    service.start();
    await service.waitReady();
    const ids = new Map<string, string>();
    for (const name of nodes) {
      const node = await rpc.request(
        GpuNodesRegister,
        { name, serves: [{ model: MODEL, endpoint: `http://${name}:8000/v1` }] },
        operator(),
      );
      ids.set(name, node.id);
    }
    // the agents: one heartbeat per interval each, staggered
    nodes.forEach((name, i) => {
      const beat = () => {
        if (silent.has(name)) return;
        bus.publish(GpuAgentHeartbeat, {
          node: name,
          kubeNode: name,
          source: 'dcgm-exporter',
          driverVersion: '535.183.01',
          sampledAt: new Date().toISOString(),
          intervalMs: INTERVAL_MS,
          gpus: [card(name, 0), card(name, 1)],
          sourceError: null,
        });
        lastBeat.set(name, performance.now());
      };
      timers.push(
        setTimeout(
          () => {
            beat();
            timers.push(setInterval(beat, INTERVAL_MS));
          },
          (i * INTERVAL_MS) / NODES,
        ),
      );
    });
    const routable = async (name: string) =>
      (await rpc.request(GpuNodesGet, { id: ids.get(name)! }, operator())).routable;
    for (const name of nodes) while (!(await routable(name))) await sleep(50);

    // the callers: a route each, again and again; each reply noted with when it was asked
    const replies: { sentAt: number; node: string }[] = [];
    const caller = async () => {
      const ctx = serviceContext('bench-inference-worker');
      while (!stopping) {
        const sentAt = performance.now();
        try {
          const route = await rpc.request(GpuRoute, { model: MODEL, exclude: [] }, ctx);
          replies.push({ sentAt, node: route.node });
        } catch {
          await sleep(5);
        }
      }
    };
    const callers = Array.from({ length: CALLERS }, caller);

    sayMachine();
    say(
      `pool: ${NODES} nodes x 2 V100 32 GB serving one model, heartbeat every ${INTERVAL_MS} ms, service sweep every ${SWEEP_MS} ms, ${CALLERS} callers asking for routes without pause`,
    );
    say('');
    const results: RunResult[] = [];
    for (let run = 0; run < RUNS; run++) {
      const victim = nodes[run % NODES]!;
      silent.add(victim);
      const last = lastBeat.get(victim)!;
      let removedAt = 0;
      while (!removedAt) {
        if (!(await routable(victim))) removedAt = performance.now();
        else await sleep(5);
      }
      // keep routing for a while after the removal, then bring the node back
      await sleep(Math.max(1_000, INTERVAL_MS));
      const resumedAt = performance.now();
      const window = replies.filter(
        (r) => r.node === victim && r.sentAt >= last && r.sentAt < removedAt,
      ).length;
      const after = replies.filter((r) => r.sentAt >= removedAt && r.sentAt < resumedAt);
      results.push({
        detectMs: removedAt - last,
        windowCalls: window,
        afterRemoval: after.filter((r) => r.node === victim).length,
        callsAfter: after.length,
      });
      const r = results[results.length - 1]!;
      say(
        `run ${run + 1}: ${victim} silent; out of routing ${r.detectMs.toFixed(0)} ms after its last heartbeat; ${r.windowCalls} routes to it in that window; ${r.afterRemoval} of ${r.callsAfter} routes after removal reached it`,
      );
      silent.delete(victim);
      while (!(await routable(victim))) await sleep(50);
    }
    stopping = true;
    await Promise.all(callers);

    const detect = results.map((r) => r.detectMs).sort((a, b) => a - b);
    say('');
    say('failover (time from the last heartbeat to removal from routing)');
    say(
      `  min ${detect[0]!.toFixed(0)} ms, p50 ${percentile(detect, 0.5).toFixed(0)} ms, max ${detect[detect.length - 1]!.toFixed(0)} ms (${(percentile(detect, 0.5) / INTERVAL_MS).toFixed(2)} heartbeat intervals at p50)`,
    );
    say(
      `  routes to the silent node before removal: ${results.reduce((a, r) => a + r.windowCalls, 0)} (the detection window)`,
    );
    say(
      `  routes to a removed node after removal: ${results.reduce((a, r) => a + r.afterRemoval, 0)} of ${results.reduce((a, r) => a + r.callsAfter, 0)} (must be 0)`,
    );
    say(`  routes answered in all: ${replies.length}`);
    return 0;
  } catch (error) {
    say(`bench failed: ${(error as Error).stack ?? String(error)}`);
    return 1;
  } finally {
    stopping = true;
    for (const t of timers) clearInterval(t);
    await nc.drain().catch(() => undefined);
    await service.stop();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
    await infra.stop();
  }
}

void main().then((code) => process.exit(code));
