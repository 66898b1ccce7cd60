import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { AckPolicy, JSONCodec, type NatsConnection } from 'nats';
import {
  EventBus,
  RpcClient,
  SubjectNamespace,
  connectNats,
  ensureStream,
} from '@lattice/messaging';
import { createLogger } from '@lattice/logging';
import {
  GpuAgentHeartbeat,
  GpuMemoryQuerySubject,
  GpuNodesRegister,
  stream,
  type GpuReading,
} from '@lattice/contracts';
import {
  TEST_APP_PASSWORD,
  TEST_INTERNAL_SECRET,
  createTestDatabase,
  eventually,
  startBuiltService,
  testNamespace,
  testNatsUrl,
  testGatewaySigner,
  testPostgresUrl,
  type BuiltService,
} from '@lattice/testing';
import { KubeTestBed, policySpec } from '../../test/operator.test-bed';
import type { ScalingPolicySpec } from '../policy/scaling-policy.types';

jest.setTimeout(90_000);

const json = JSONCodec();
const WAIT = { timeoutMs: 30_000, intervalMs: 200 };
const platformService = {
  tenantId: null,
  actor: { type: 'service' as const, id: 'operator-k8s-test', roles: [] },
  requestId: randomUUID(),
};

describe('operator against a real API server and NATS', () => {
  let bed: KubeTestBed;
  let nc: NatsConnection;
  let rpc: RpcClient;
  let events: EventBus;
  let gpuNodes: BuiltService | undefined;
  let database: { url: string; drop(): Promise<void> } | undefined;
  const prefix = testNamespace();
  const ns = new SubjectNamespace(prefix);
  const jobs = stream('JOBS', ['jobs.>']);

  beforeAll(async () => {
    bed = await new KubeTestBed().setUp();
    nc = await connectNats(testNatsUrl(), 'operator-k8s-test');
    await ensureStream(nc, ns, jobs);
    const jsm = await nc.jetstreamManager();
    await jsm.consumers.add(ns.stream(jobs.name), {
      durable_name: ns.durable('workers'),
      ack_policy: AckPolicy.Explicit,
    });
    // the real GPU-node service, from the build, fed by heartbeats as its agents send them
    database = await createTestDatabase(testPostgresUrl());
    gpuNodes = await startBuiltService('gpu-nodes', 'GPU_NODES_HTTP_PORT', {
      NATS_URL: testNatsUrl(),
      LATTICE_NAMESPACE: prefix,
      LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
      DATABASE_URL: database.url,
      DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
      LOG_LEVEL: 'warn',
    });
    rpc = new RpcClient(nc, testGatewaySigner(), ns);
    events = new EventBus(nc, ns, createLogger('gpu-agent-test', 'silent'));
  });
  afterAll(async () => {
    await bed.tearDown();
    await gpuNodes?.stop();
    await nc.drain();
    await database?.drop();
  });

  /** Two V100 32 GB cards of a node serving the workload, at `usedPercent` of their memory. */
  async function gpuNodeBeats(node: string, usedPercent: number): Promise<void> {
    // 32480 MiB of which the driver reserves 480: 320 MiB to a percent of the rest
    const card = (index: number): GpuReading => ({
      uuid: `GPU-${node}-${index}`,
      index,
      model: 'Tesla V100-SXM2-32GB',
      pciBusId: null,
      totalMiB: 32_480,
      reservedMiB: 480,
      usedMiB: usedPercent * 320,
      freeMiB: (100 - usedPercent) * 320,
      utilizationPercent: usedPercent,
      temperatureC: 60,
      slowdownTemperatureC: 87,
      powerWatts: 200,
      lastXid: 0,
      eccUncorrectable: 0,
      remappedRowsUncorrectable: 0,
      rowRemapFailed: false,
      lost: false,
    });
    events.publish(GpuAgentHeartbeat, {
      node,
      kubeNode: node,
      source: 'dcgm-exporter',
      driverVersion: '535.183.01',
      sampledAt: new Date().toISOString(),
      intervalMs: 60_000,
      gpus: [card(0), card(1)],
      sourceError: null,
    });
    await nc.flush();
  }

  async function publish(count: number, subject = 'jobs.run'): Promise<void> {
    const js = nc.jetstream();
    for (let i = 0; i < count; i++) await js.publish(ns.subject(subject), json.encode({ i }));
  }

  async function drain(): Promise<void> {
    const consumer = await nc
      .jetstream()
      .consumers.get(ns.stream(jobs.name), ns.durable('workers'));
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 100, expires: 1_000 });
      let n = 0;
      for await (const m of batch) {
        m.ack();
        n++;
      }
      if (n === 0) break;
    }
    await nc.flush();
  }

  const SCALE_DOWN_WINDOW_SECONDS = 5;
  const queuePolicy = (target: string): ScalingPolicySpec =>
    policySpec(target, {
      behavior: {
        scaleDown: {
          stabilizationWindowSeconds: SCALE_DOWN_WINDOW_SECONDS,
          policies: [{ type: 'Percent', value: 100, periodSeconds: 1 }],
        },
      },
    });

  it('scales a Deployment up on a JetStream backlog and back down after the window once it drains', async () => {
    await bed.createDeployment('worker', 1);
    await publish(45);
    const operator = await bed.startOperator({ natsPrefix: prefix, identity: 'solo' });
    await bed.createPolicy('worker', queuePolicy('worker'));

    await eventually(async () => expect(await bed.replicas('worker')).toBe(5), WAIT);
    const base = `http://127.0.0.1:${(operator.app.getHttpServer().address() as AddressInfo).port}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    await eventually(async () => {
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain(
        `lattice_operator_desired_replicas{namespace="${bed.namespace}",policy="worker"} 5`,
      );
      expect(metrics).toMatch(/lattice_operator_reconcile_total\{result="success"\} [1-9]/);
      expect(metrics).toContain('lattice_operator_leader 1');
    }, WAIT);
    const scaled = await eventually(async () => {
      const p = await bed.policy('worker');
      expect(p.status?.desiredReplicas).toBe(5);
      return p;
    }, WAIT);
    expect(scaled.status?.currentMetrics).toEqual([
      expect.objectContaining({ name: 'jobs', type: 'queue', value: 45, target: 10, proposal: 5 }),
    ]);
    expect(scaled.status?.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'ScalingActive',
          status: 'True',
          reason: 'ValidMetricFound',
        }),
        expect.objectContaining({ type: 'AbleToScale', status: 'True' }),
        expect.objectContaining({ type: 'ScalingLimited' }),
      ]),
    );
    expect(scaled.status?.lastScaleTime).toBeDefined();
    expect(scaled.status?.observedGeneration).toBe(1);
    const events = await eventually(async () => {
      const list = await bed.events('worker');
      expect(list.map((e) => e.reason)).toContain('SuccessfulRescale');
      return list;
    }, WAIT);
    expect(events.find((e) => e.reason === 'SuccessfulRescale')?.message).toContain('New size: 5');

    // Make sure the operator has read the full backlog at or after `beforeDrain`: reconciles of
    // one policy run one at a time, so the second to finish after this point began after it.
    const reconciles = async () =>
      Number(
        /lattice_operator_reconcile_total\{result="success"\} (\d+)/.exec(
          await (await fetch(`${base}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    const beforeDrain = Date.now();
    const seen = await reconciles();
    await eventually(async () => expect(await reconciles()).toBeGreaterThanOrEqual(seen + 2), WAIT);
    expect(await bed.replicas('worker')).toBe(5);

    await drain();
    await eventually(async () => expect(await bed.replicas('worker')).toBe(1), WAIT);
    const settled = await eventually(async () => {
      const p = await bed.policy('worker');
      expect(p.status?.desiredReplicas).toBe(1);
      return p;
    }, WAIT);
    expect(settled.status?.currentMetrics?.[0]).toMatchObject({ value: 0, proposal: 0 });
    // it recommended 5 at or after `beforeDrain`, so it may shrink only a full window later
    const scaledDownAt = Date.parse(settled.status!.lastScaleTime!);
    expect(scaledDownAt - beforeDrain).toBeGreaterThanOrEqual(SCALE_DOWN_WINDOW_SECONDS * 1000);
  });

  it('reports a missing consumer as FailedGetQueueMetric with a Warning event, and holds the fallback', async () => {
    await bed.createDeployment('orphan', 2);
    const spec = queuePolicy('orphan');
    spec.metrics[0].queue!.consumer = 'nobody';
    spec.fallback = { failureThreshold: 2, replicas: 4 };
    await bed.createPolicy('orphan', spec);
    const failing = await eventually(async () => {
      const p = await bed.policy('orphan');
      expect(p.status?.conditions).toContainEqual(
        expect.objectContaining({ type: 'ScalingActive', status: 'False' }),
      );
      return p;
    }, WAIT);
    expect(failing.status?.currentMetrics?.[0].error).toBeTruthy();
    await eventually(async () => expect(await bed.replicas('orphan')).toBe(4), WAIT);
    const reasons = (await bed.events('orphan')).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['FailedGetMetrics', 'FallbackActive']));
  });

  it('scales an inference pool on the queue only while the GPU service reports VRAM above 80 %', async () => {
    await bed.createDeployment('inference', 2);
    await publish(60);
    // the model server of the `inference` Deployment runs on this node
    const node = `gpu-${randomUUID().slice(0, 8)}`;
    await rpc.request(
      GpuNodesRegister,
      {
        name: node,
        serves: [
          {
            model: 'llama-3-8b-instruct',
            endpoint: `http://${node}:8000/v1`,
            workload: { namespace: bed.namespace, kind: 'Deployment', name: 'inference' },
          },
        ],
      },
      {
        tenantId: null,
        actor: { type: 'user', id: 'sre', roles: ['platform-operator'] },
        requestId: randomUUID(),
      },
    );
    await gpuNodeBeats(node, 60);
    const memory = { namespace: bed.namespace, workload: 'inference', kind: 'Deployment' };
    await eventually(async () => {
      const { gpus } = await rpc.request(GpuMemoryQuerySubject, memory, platformService);
      expect(gpus.map((g) => g.usedMiB)).toEqual([19_200, 19_200]);
    }, WAIT);
    await bed.createPolicy(
      'inference',
      policySpec('inference', {
        maxReplicas: 8,
        metrics: [
          { ...policySpec('').metrics[0], activeWhen: [{ metric: 'vram', above: 80 }] },
          { name: 'vram', type: 'gpuMemory', gpuMemory: { measure: 'UsedPercent' } },
        ],
        holdScaleDownWhen: [{ metric: 'vram', above: 50 }],
      }),
    );
    const gated = await eventually(async () => {
      const p = await bed.policy('inference');
      expect(p.status?.gates).toContainEqual(
        expect.objectContaining({ gates: 'jobs', metric: 'vram', holds: false, value: 60 }),
      );
      return p;
    }, WAIT);
    expect(gated.status?.currentMetrics).toContainEqual(
      expect.objectContaining({ name: 'jobs', gateOpen: false, value: 60 }),
    );
    expect(gated.status?.metricsSummary).toContain('jobs: 60/10 (gated)');
    expect(await bed.replicas('inference')).toBe(2);

    await gpuNodeBeats(node, 95);
    await eventually(async () => expect(await bed.replicas('inference')).toBe(6), WAIT);
    // the scale is patched before the status is written
    await eventually(async () => {
      const open = await bed.policy('inference');
      expect(open.status?.gates).toContainEqual(
        expect.objectContaining({ gates: 'jobs', holds: true, value: 95 }),
      );
    }, WAIT);
    await drain();
  });

  it('lets a worker sleep at zero and wakes it once the backlog passes the activation threshold', async () => {
    const night = stream('NIGHT', ['night.>']);
    await ensureStream(nc, ns, night);
    const jsm = await nc.jetstreamManager();
    await jsm.consumers.add(ns.stream(night.name), {
      durable_name: ns.durable('sleepers'),
      ack_policy: AckPolicy.Explicit,
    });
    await bed.createDeployment('sleeper', 1);
    await bed.createPolicy(
      'sleeper',
      policySpec('sleeper', {
        minReplicas: 0,
        maxReplicas: 5,
        metrics: [
          {
            name: 'night',
            type: 'queue',
            queue: {
              stream: 'NIGHT',
              consumer: 'sleepers',
              targetPerReplica: 10,
              activationThreshold: 5,
            },
          },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
      }),
    );
    await eventually(async () => expect(await bed.replicas('sleeper')).toBe(0), WAIT);

    await publish(3, 'night.job');
    const below = await eventually(async () => {
      const p = await bed.policy('sleeper');
      expect(p.status?.currentMetrics?.[0]).toMatchObject({ value: 3, active: false, proposal: 0 });
      return p;
    }, WAIT);
    expect(below.status?.desiredReplicas).toBe(0);
    expect(await bed.replicas('sleeper')).toBe(0);

    await publish(4, 'night.job');
    await eventually(async () => expect(await bed.replicas('sleeper')).toBe(1), WAIT);
  });
});
