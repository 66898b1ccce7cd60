import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import {
  PLATFORM_ADMIN_ROLE,
  SchedulerJobsComplete,
  SchedulerJobsGet,
  SchedulerJobsHeartbeat,
  SchedulerJobsLease,
  SchedulerJobsStart,
  SchedulerJobsSubmit,
  SchedulerQueuesCreate,
  SchedulerWorkersRegister,
  TenantsCreate,
} from '@lattice/contracts';
import {
  startControlPlane,
  startControllerManager,
  type ControllerManager,
  type KubeControlPlane,
} from '@lattice/kube-test-env';
import { RpcClient, SubjectNamespace, connectNats } from '@lattice/messaging';
import { serviceContext, type RequestContext } from '@lattice/request-context';
import {
  TEST_APP_PASSWORD,
  TEST_INTERNAL_SECRET,
  testGatewaySigner,
  createTestDatabase,
  eventually,
  startBuiltService,
  testNamespace,
  testNatsUrl,
  testPostgresUrl,
  type BuiltService,
} from '@lattice/testing';
import { KubeTestBed, policySpec } from '../../test/operator.test-bed';
import type { ScalingPolicySpec } from '../policy/scaling-policy.types';
import { DELETION_COST, DRAINED_COST, DRAINED_FOR } from './scale-in-drainer';

// a control plane, a controller manager and two services of this file's own
jest.setTimeout(240_000);

const WAIT = { timeoutMs: 90_000, intervalMs: 250 };
const worker = () => serviceContext('test-worker');
const admin = (): RequestContext => ({
  tenantId: null,
  actor: { type: 'bootstrap', id: 'test-admin', roles: [PLATFORM_ADMIN_ROLE] },
  requestId: randomUUID(),
});

/**
 * Drain-first scale-in against a real kube-apiserver with a real kube-controller-manager
 * (whose ReplicaSet controller creates the pods and chooses which to delete; without a kubelet
 * they stay Pending), the real scheduler and tenants services from the build, and workers
 * speaking the scheduler's contracts with their pod names.
 */
describe('scale-in that drains first', () => {
  const prefix = testNamespace();
  let plane: KubeControlPlane;
  let controllers: ControllerManager;
  let bed: KubeTestBed;
  let services: BuiltService[] = [];
  let dropDatabase: () => Promise<void>;
  let nats: NatsConnection;
  let rpc: RpcClient;
  let member: () => RequestContext;

  beforeAll(async () => {
    plane = await startControlPlane();
    controllers = await startControllerManager(plane, ['deployment', 'replicaset']);
    bed = await new KubeTestBed(plane).setUp();
    const database = await createTestDatabase(testPostgresUrl());
    dropDatabase = () => database.drop();
    const env = {
      NATS_URL: testNatsUrl(),
      LATTICE_NAMESPACE: prefix,
      LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
      DATABASE_URL: database.url,
      DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
      LOG_LEVEL: 'silent',
    };
    services = [
      await startBuiltService('tenants', 'TENANTS_HTTP_PORT', env),
      // leases outlast the test, so only drains decide who holds what
      await startBuiltService('scheduler', 'SCHEDULER_HTTP_PORT', {
        ...env,
        SCHEDULER_LEASE_SECONDS: '1800',
      }),
    ];
    nats = await connectNats(testNatsUrl(), 'scale-in-drain-test');
    rpc = new RpcClient(
      nats,
      testGatewaySigner(),
      new SubjectNamespace(prefix),
    );
    const slug = `t-${randomUUID().slice(0, 8)}`;
    const tenant = await rpc.request(
      TenantsCreate,
      { slug, name: slug, plan: 'enterprise' },
      admin(),
    );
    member = () => ({
      tenantId: tenant.id,
      actor: { type: 'user', id: 'submitter', roles: ['tenant-admin'] },
      requestId: randomUUID(),
    });
    await bed.startOperator({ natsPrefix: prefix, kubeConfig: await bed.operatorServiceAccount() });
  });

  afterAll(async () => {
    await bed?.tearDown();
    await controllers?.stop();
    await plane?.stop();
    for (const service of services) await service.stop();
    await nats?.drain().catch(() => undefined);
    await dropDatabase?.();
  });

  const pods = async (app: string) =>
    (await bed.core.listNamespacedPod({ namespace: bed.namespace, labelSelector: `app=${app}` }))
      .items;
  const podNames = async (app: string) =>
    (await pods(app))
      .filter((p) => !p.metadata?.deletionTimestamp)
      .map((p) => p.metadata!.name!)
      .sort();

  /** A Deployment of workers for a new queue, each pod registered as a worker by its name. */
  async function workerPool(
    app: string,
    replicas: number,
  ): Promise<{ queue: string; pods: string[] }> {
    const queue = `${app}-${randomUUID().slice(0, 6)}`;
    await rpc.request(
      SchedulerQueuesCreate,
      { name: queue, workerPool: app, maxTenantShare: 1 },
      admin(),
    );
    await bed.createDeployment(app, replicas);
    const names = await eventually(async () => {
      const names = await podNames(app);
      expect(names).toHaveLength(replicas);
      return names;
    }, WAIT);
    for (const workerId of names)
      await rpc.request(SchedulerWorkersRegister, { workerId, queue, concurrency: 4 }, worker());
    return { queue, pods: names };
  }

  /** Jobs submitted to the queue, leased by the worker and started. */
  async function running(queue: string, workerId: string, count: number): Promise<string[]> {
    for (let i = 0; i < count; i++)
      await rpc.request(SchedulerJobsSubmit, { queue, type: 'embed' }, member());
    const { jobs } = await rpc.request(
      SchedulerJobsLease,
      { workerId, queue, max: count },
      worker(),
    );
    expect(jobs).toHaveLength(count);
    for (const job of jobs)
      await rpc.request(SchedulerJobsStart, { workerId, jobId: job.id }, worker());
    return jobs.map((j) => j.id);
  }

  const complete = async (workerId: string, jobIds: string[]) => {
    for (const jobId of jobIds)
      await rpc.request(SchedulerJobsComplete, { workerId, jobId }, worker());
  };

  const drainingPolicy = (
    target: string,
    queue: string,
    over: { minReplicas: number; targetPerReplica: number; drainTimeoutSeconds: number },
  ): ScalingPolicySpec =>
    policySpec(target, {
      minReplicas: over.minReplicas,
      maxReplicas: 10,
      metrics: [
        {
          name: 'jobs',
          type: 'queue',
          queue: { source: 'Scheduler', name: queue, targetPerReplica: over.targetPerReplica },
        },
      ],
      behavior: {
        scaleDown: {
          stabilizationWindowSeconds: 0,
          policies: [{ type: 'Percent', value: 100, periodSeconds: 1 }],
          drainTimeoutSeconds: over.drainTimeoutSeconds,
        },
      },
    });

  const reasons = async (policy: string) => (await bed.events(policy)).map((e) => e.reason);
  const eventMessage = async (policy: string, reason: string) =>
    (await bed.events(policy)).find((e) => e.reason === reason)?.message ?? '';

  it('removes exactly the drained pods once their workers are idle, losing no running job, while another policy times out and scales meanwhile', async () => {
    // four workers holding 2, 1, 0 and 2 jobs; five jobs at three per replica call for two
    const { queue, pods: all } = await workerPool('pool', 4);
    const [busy1, light, idle, busy2] = all;
    const held = new Map([
      [busy1, await running(queue, busy1, 2)],
      [light, await running(queue, light, 1)],
      [busy2, await running(queue, busy2, 2)],
    ]);
    await bed.createPolicy(
      'pool',
      drainingPolicy('pool', queue, {
        minReplicas: 2,
        targetPerReplica: 3,
        drainTimeoutSeconds: 600,
      }),
    );

    // the two workers holding the least are drained, their pods marked, and the size held
    const waiting = await eventually(async () => {
      const p = await bed.policy('pool');
      expect(p.status?.drain?.workers.map((w) => w.pod).sort()).toEqual([idle, light].sort());
      expect(p.status?.conditions).toContainEqual(
        expect.objectContaining({ type: 'Draining', status: 'True', reason: 'WaitingForDrain' }),
      );
      return p;
    }, WAIT);
    expect(waiting.status?.drain).toMatchObject({ queue, fromReplicas: 4, toReplicas: 2 });
    expect(waiting.status?.desiredReplicas).toBe(2);
    expect(await eventMessage('pool', 'DrainStarted')).toContain(`${light} (1 job)`);
    for (const pod of await pods('pool')) {
      const drained = [idle, light].includes(pod.metadata!.name!);
      expect(pod.metadata?.annotations?.[DELETION_COST]).toBe(drained ? DRAINED_COST : undefined);
      expect(pod.metadata?.annotations?.[DRAINED_FOR]).toBe(
        drained ? `${bed.namespace}/pool` : undefined,
      );
    }
    expect(await bed.replicas('pool')).toBe(4);

    // the drained worker is leased nothing more, keeps its job and is told it drains
    await rpc.request(SchedulerJobsSubmit, { queue, type: 'embed' }, member());
    expect(
      (await rpc.request(SchedulerJobsLease, { workerId: light, queue, max: 4 }, worker())).jobs,
    ).toEqual([]);
    expect(
      await rpc.request(
        SchedulerJobsHeartbeat,
        { workerId: light, jobIds: held.get(light)! },
        worker(),
      ),
    ).toMatchObject({ held: held.get(light), draining: true });
    const extra = (
      await rpc.request(SchedulerJobsLease, { workerId: busy1, queue, max: 1 }, worker())
    ).jobs.map((j) => j.id);
    await rpc.request(SchedulerJobsStart, { workerId: busy1, jobId: extra[0] }, worker());
    held.get(busy1)!.push(...extra);

    // meanwhile a second pool, whose drained worker never finishes, scales at its timeout
    const slow = await workerPool('slow', 3);
    for (const pod of slow.pods) await running(slow.queue, pod, 1);
    await bed.createPolicy(
      'slow',
      drainingPolicy('slow', slow.queue, {
        minReplicas: 2,
        targetPerReplica: 2,
        drainTimeoutSeconds: 2,
      }),
    );
    await eventually(async () => expect(await bed.replicas('slow')).toBe(2), WAIT);
    const timedOut = await eventMessage('slow', 'DrainTimedOut');
    const [stuck] = slow.pods.filter((p) => timedOut.includes(p));
    expect(timedOut).toContain(`drain timeout of 2 s passed with ${stuck} (1 job) still held`);
    await eventually(
      async () => expect(await podNames('slow')).toEqual(slow.pods.filter((p) => p !== stuck)),
      WAIT,
    );
    expect((await bed.events('slow')).find((e) => e.reason === 'DrainTimedOut')?.type).toBe(
      'Warning',
    );
    // the first pool waited on, untouched
    expect(await bed.replicas('pool')).toBe(4);
    expect(await podNames('pool')).toEqual(all);

    // once the drained worker finishes, the size is applied and the ReplicaSet removes exactly it
    await complete(light, held.get(light)!);
    await eventually(async () => expect(await bed.replicas('pool')).toBe(2), WAIT);
    await eventually(
      async () => expect(await podNames('pool')).toEqual([busy1, busy2].sort()),
      WAIT,
    );
    await eventually(async () => {
      expect(await reasons('pool')).toEqual(
        expect.arrayContaining(['DrainStarted', 'DrainCompleted', 'SuccessfulRescale']),
      );
      const p = await bed.policy('pool');
      expect(p.status?.drain).toBeUndefined();
      expect(p.status?.conditions).toContainEqual(
        expect.objectContaining({ type: 'Draining', status: 'False', reason: 'DrainCompleted' }),
      );
    }, WAIT);
    expect(await eventMessage('pool', 'DrainCompleted')).toContain('scaling from 4 to 2');

    // and every job that was running finishes on the workers that stayed
    await complete(busy1, held.get(busy1)!);
    await complete(busy2, held.get(busy2)!);
    for (const id of [...held.values()].flat())
      expect((await rpc.request(SchedulerJobsGet, { id }, member())).state).toBe('succeeded');
  });

  it('abandons a scale-in when the work comes back before the drain ends: the workers lease again and their pods lose the mark', async () => {
    const { queue, pods: all } = await workerPool('surge', 3);
    const [a, b, c] = all;
    await running(queue, a, 1);
    await running(queue, b, 1);
    await running(queue, c, 1);
    await bed.createPolicy(
      'surge',
      drainingPolicy('surge', queue, {
        minReplicas: 1,
        targetPerReplica: 2,
        drainTimeoutSeconds: 600,
      }),
    );
    const drained = await eventually(async () => {
      const workers = (await bed.policy('surge')).status?.drain?.workers ?? [];
      expect(workers).toHaveLength(1);
      return workers[0].pod;
    }, WAIT);

    // three more jobs wait: six at two per replica keep all three
    for (let i = 0; i < 3; i++)
      await rpc.request(SchedulerJobsSubmit, { queue, type: 'embed' }, member());
    await eventually(async () => {
      expect(await reasons('surge')).toContain('DrainAbandoned');
      const p = await bed.policy('surge');
      expect(p.status?.drain).toBeUndefined();
      expect(p.status?.conditions).toContainEqual(
        expect.objectContaining({ type: 'Draining', status: 'False', reason: 'DrainAbandoned' }),
      );
    }, WAIT);
    const pod = (await pods('surge')).find((p) => p.metadata!.name === drained)!;
    expect(pod.metadata?.annotations?.[DELETION_COST]).toBeUndefined();
    expect(pod.metadata?.annotations?.[DRAINED_FOR]).toBeUndefined();
    expect(
      (await rpc.request(SchedulerJobsLease, { workerId: drained, queue, max: 1 }, worker())).jobs,
    ).toHaveLength(1);
    expect(await bed.replicas('surge')).toBe(3);
  });
});
