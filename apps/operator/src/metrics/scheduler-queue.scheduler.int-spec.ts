import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import {
  ErrorCode,
  PLATFORM_ADMIN_ROLE,
  SchedulerJobsSubmit,
  SchedulerQueuesCreate,
} from '@lattice/contracts';
import { RpcClient, SubjectNamespace, connectNats } from '@lattice/messaging';
import { type RequestContext } from '@lattice/request-context';
import {
  TEST_APP_PASSWORD,
  TEST_INTERNAL_SECRET,
  createTestDatabase,
  failure,
  startBuiltService,
  testNamespace,
  testNatsUrl,
  testPostgresUrl,
  type BuiltService,
  testGatewaySigner,
  testContextEnv,
} from '@lattice/testing';
import { SchedulerQueueSource } from './scheduler-queue.source';

// each file starts the tenants (or scheduler) service from the build, and a busy machine is slow
jest.setTimeout(60_000);

/** The operator's scheduler-queue reader against the real scheduler service, from the build. */
describe(`${SchedulerQueueSource.name} and the scheduler`, () => {
  const namespace = testNamespace();
  let nats: NatsConnection;
  let rpc: RpcClient;
  let scheduler: BuiltService;
  let dropDatabase: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase(testPostgresUrl());
    dropDatabase = () => database.drop();
    scheduler = await startBuiltService('scheduler', 'SCHEDULER_HTTP_PORT', {
      NATS_URL: testNatsUrl(),
      LATTICE_NAMESPACE: namespace,
      LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
      ...testContextEnv('scheduler'),
      DATABASE_URL: database.url,
      DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
      LOG_LEVEL: 'silent',
    });
    nats = await connectNats(testNatsUrl(), 'scheduler-queue-scheduler-test');
    rpc = new RpcClient(nats, testGatewaySigner(), new SubjectNamespace(namespace));
  });
  afterAll(async () => {
    await scheduler?.stop();
    await nats?.drain().catch(() => undefined);
    await dropDatabase?.();
  });

  it('reads the backlog the scheduler counts across tenants', async () => {
    const admin: RequestContext = {
      tenantId: null,
      actor: { type: 'bootstrap', id: 'test-admin', roles: [PLATFORM_ADMIN_ROLE] },
      requestId: randomUUID(),
    };
    const queue = `op-${randomUUID().slice(0, 8)}`;
    await rpc.request(SchedulerQueuesCreate, { name: queue, workerPool: 'workers' }, admin);
    const source = new SchedulerQueueSource(rpc);
    expect(await source.backlog(queue)).toBe(0);

    for (const tenantId of [randomUUID(), randomUUID(), randomUUID()]) {
      const member: RequestContext = {
        tenantId,
        actor: { type: 'user', id: 'submitter', roles: ['tenant-admin'] },
        requestId: randomUUID(),
      };
      await rpc.request(SchedulerJobsSubmit, { queue, type: 'embed' }, member);
    }
    expect(await source.backlog(queue)).toBe(3);
  });

  it('fails, rather than reading zero, when no scheduler answers', async () => {
    const elsewhere = new RpcClient(
      nats,
      testGatewaySigner(),
      new SubjectNamespace(testNamespace()),
      1_000,
    );
    const error = await failure(new SchedulerQueueSource(elsewhere).backlog('inference-v100'));
    expect(error.code).toBe(ErrorCode.Unavailable);
  });
});
