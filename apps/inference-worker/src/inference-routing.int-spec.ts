import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { loadConfig } from '@lattice/config';
import {
  GpuAgentHeartbeat,
  GpuLeasesList,
  GpuNodesList,
  GpuNodesRegister,
  INFERENCE_CHAT_JOB_TYPE,
  InferenceJobResult,
  PLATFORM_ADMIN_ROLE,
  SchedulerJobsGet,
  SchedulerJobsSubmit,
  SchedulerQueuesCreate,
  TenantsCreate,
  type GpuNodeHeartbeat,
  type JobView,
} from '@lattice/contracts';
import { createLogger } from '@lattice/logging';
import { EventBus, RpcClient, SubjectNamespace, connectNats } from '@lattice/messaging';
import { startModelServerStandIn, type RunningStandIn } from '@lattice/model-server-stand-in';
import type { RequestContext } from '@lattice/request-context';
import {
  TEST_INTERNAL_SECRET,
  eventually,
  testContextEnv,
  testGatewaySigner,
  testNamespace,
  testNatsUrl,
  startBuiltServices,
  type BuiltServices,
} from '@lattice/testing';
import { createInferenceWorkerApp } from './inference-worker.app';
import { inferenceWorkerConfigSpec } from './inference-worker.config';

// three services run from the build, and a busy machine is slow
jest.setTimeout(120_000);

const MODEL = 'routed-model';

const operator = (): RequestContext => ({
  tenantId: null,
  actor: { type: 'user', id: 'test-operator', roles: ['platform-operator'] },
  requestId: randomUUID(),
});
const admin = (): RequestContext => ({
  tenantId: null,
  actor: { type: 'bootstrap', id: 'test-admin', roles: [PLATFORM_ADMIN_ROLE] },
  requestId: randomUUID(),
});

/** One healthy 32 GB V100, as a node's agent reports it. */
function heartbeat(node: string): GpuNodeHeartbeat {
  return {
    node,
    kubeNode: node,
    source: 'dcgm-exporter',
    driverVersion: '535.183.01',
    sampledAt: new Date().toISOString(),
    intervalMs: 1_000,
    sourceError: null,
    gpus: [
      {
        uuid: `GPU-${node}-0`,
        index: 0,
        model: 'Tesla V100-SXM2-32GB',
        pciBusId: '00000000:15:00.0',
        totalMiB: 32_480,
        usedMiB: 0,
        reservedMiB: 0,
        freeMiB: 32_480,
        utilizationPercent: 20,
        temperatureC: 45,
        slowdownTemperatureC: 87,
        powerWatts: 60,
        lastXid: 0,
        eccUncorrectable: 0,
        remappedRowsUncorrectable: 0,
        rowRemapFailed: false,
        lost: false,
      },
    ],
  };
}

/**
 * The inference worker taking its routes from the real GPU-node service: two nodes serve the
 * model, each through a stand-in model server; a failing one is reported to gpu-nodes and the
 * next node it names answers.
 */
describe('inference worker routed by gpu-nodes', () => {
  const namespace = testNamespace();
  const ns = new SubjectNamespace(namespace);
  let services: BuiltServices;
  let nats: NatsConnection;
  let rpc: RpcClient;
  let worker: INestApplication;
  let leasing: INestApplication | undefined;
  let workerEnv: Record<string, string>;
  let beating: NodeJS.Timeout;
  const servers: Record<string, RunningStandIn> = {};
  let queue: string;
  let tenant: string;

  beforeAll(async () => {
    services = await startBuiltServices(namespace, ['tenants', 'scheduler', 'gpu-nodes']);
    nats = await connectNats(testNatsUrl(), 'inference-routing-test');
    rpc = new RpcClient(nats, testGatewaySigner(), ns);

    for (const node of ['node-a', 'node-b']) {
      servers[node] = await startModelServerStandIn({ models: [MODEL] });
      await rpc.request(
        GpuNodesRegister,
        { name: node, serves: [{ model: MODEL, endpoint: servers[node].url }] },
        operator(),
      );
    }
    const bus = new EventBus(nats, ns, createLogger('agents', 'silent'));
    const beat = () => {
      for (const node of Object.keys(servers)) bus.publish(GpuAgentHeartbeat, heartbeat(node));
    };
    beat();
    beating = setInterval(beat, 300);
    await eventually(async () => {
      const nodes = (await rpc.request(GpuNodesList, { model: MODEL }, operator())).items;
      expect(
        nodes
          .filter((n) => n.routable)
          .map((n) => n.name)
          .sort(),
      ).toEqual(['node-a', 'node-b']);
    });

    queue = `inference-${randomUUID().slice(0, 8)}`;
    await rpc.request(
      SchedulerQueuesCreate,
      { name: queue, workerPool: 'inference-worker', maxTenantShare: 1 },
      admin(),
    );
    const slug = `t-${randomUUID().slice(0, 8)}`;
    tenant = (await rpc.request(TenantsCreate, { slug, name: slug, plan: 'professional' }, admin()))
      .id;
    workerEnv = {
      NATS_URL: testNatsUrl(),
      LATTICE_NAMESPACE: namespace,
      LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
      ...testContextEnv('inference-worker'),
      LOG_LEVEL: 'silent',
      INFERENCE_WORKER_HTTP_PORT: '0',
    };
    const config = loadConfig(inferenceWorkerConfigSpec, {
      ...workerEnv,
      INFERENCE_WORKER_QUEUE: queue,
    });
    worker = await createInferenceWorkerApp(config, createLogger('inference-test', 'silent'), {
      workerId: `inference-${randomUUID().slice(0, 8)}`,
      pollMs: 200,
    });
  });
  afterAll(async () => {
    clearInterval(beating);
    await worker?.close();
    await leasing?.close();
    for (const s of Object.values(servers)) await s.close();
    await services?.stop();
    await nats?.drain().catch(() => undefined);
  });

  const run = async (on = queue): Promise<JobView> => {
    const member: RequestContext = {
      tenantId: tenant,
      actor: { type: 'user', id: 'asker', roles: ['tenant-admin'] },
      requestId: randomUUID(),
    };
    const job = await rpc.request(
      SchedulerJobsSubmit,
      {
        queue: on,
        type: INFERENCE_CHAT_JOB_TYPE,
        priority: 'interactive',
        maxAttempts: 1,
        payload: {
          messages: [
            {
              role: 'user',
              content:
                '<passage id="a">Nodes serve models.</passage>\n<question>What do nodes serve?</question>',
            },
          ],
          models: [MODEL],
          maxTokens: 50,
        },
      },
      member,
    );
    let done!: JobView;
    await eventually(async () => {
      done = await rpc.request(SchedulerJobsGet, { id: job.id }, member);
      expect(['succeeded', 'failed', 'dead']).toContain(done.state);
    });
    return done;
  };

  it('calls the node gpu-nodes routes to, and after a failure the next node it names', async () => {
    const first = InferenceJobResult.parse((await run()).result);
    expect(first.text).toBe('Nodes serve models. [a]');
    expect(first.attempts).toEqual([
      expect.objectContaining({ outcome: 'succeeded', node: expect.stringMatching(/^node-[ab]$/) }),
    ]);
    const routed = first.attempts[0]!;
    expect(routed.endpoint).toBe(servers[routed.node!]!.url);

    servers['node-a']!.setFailure('*', '500');
    // the rotation reaches node-a within a few calls; each answer still comes from node-b
    let failedOver: InferenceJobResult | undefined;
    for (let i = 0; i < 6 && !failedOver; i++) {
      const done = await run();
      expect(done.state).toBe('succeeded');
      const result = InferenceJobResult.parse(done.result);
      expect(result.attempts.at(-1)).toMatchObject({ node: 'node-b', outcome: 'succeeded' });
      if (result.attempts.length > 1) failedOver = result;
    }
    expect(failedOver?.attempts.map((a) => [a.node, a.outcome, a.status])).toEqual([
      ['node-a', 'failed', 500],
      ['node-b', 'succeeded', 200],
    ]);
    expect(servers['node-a']!.calls.filter((c) => c.status === 500)).toHaveLength(1);
  });

  it('with VRAM leases: holds a lease on a node serving the model for the call, and releases it', async () => {
    for (const server of Object.values(servers)) server.clearFailures();
    const leaseQueue = `inference-lease-${randomUUID().slice(0, 8)}`;
    await rpc.request(
      SchedulerQueuesCreate,
      { name: leaseQueue, workerPool: 'inference-worker', maxTenantShare: 1 },
      admin(),
    );
    leasing = await createInferenceWorkerApp(
      loadConfig(inferenceWorkerConfigSpec, {
        ...workerEnv,
        INFERENCE_WORKER_QUEUE: leaseQueue,
        INFERENCE_ENDPOINT_SOURCE: 'lease',
        INFERENCE_LEASE_VRAM_MIB: '4096',
      }),
      createLogger('inference-test', 'silent'),
      { workerId: `leasing-${randomUUID().slice(0, 8)}`, pollMs: 200 },
    );
    const done = await run(leaseQueue);
    expect(done.state).toBe('succeeded');
    const result = InferenceJobResult.parse(done.result);
    expect(result.text).toBe('Nodes serve models. [a]');
    const node = result.attempts[0]!.node!;
    expect(result.attempts[0]!.endpoint).toBe(servers[node]!.url);

    const leases = (
      await rpc.request(GpuLeasesList, { tenantId: tenant }, operator())
    ).items.filter((l) => l.model === MODEL);
    expect(leases).toEqual([
      expect.objectContaining({ node, vramMiB: 4096, tenantId: tenant, state: 'released' }),
    ]);
  });
});
