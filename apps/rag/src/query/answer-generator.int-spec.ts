import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import pino from 'pino';
import {
  ErrorCode,
  SchedulerJobsGet,
  SchedulerQueuesCreate,
  TenantsCreate,
} from '@lattice/contracts';
import { RpcClient, SubjectNamespace, connectNats } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import {
  eventually,
  failure,
  testGatewaySigner,
  testNamespace,
  testNatsUrl,
  testPlatformAdmin,
  startBuiltServices,
  type BuiltServices,
} from '@lattice/testing';
import { AnswerGenerator, type GenerationRequest } from './answer-generator';

jest.setTimeout(120_000);

const developer = (tenantId: string): RequestContext => ({
  tenantId,
  actor: { type: 'user', id: `dev-of-${tenantId}`, roles: ['developer'] },
  requestId: randomUUID(),
});

/**
 * How an answer fails when nothing writes it, against the real scheduler and tenants service
 * (from the build): a queue nobody declared, and a queue whose workers never come.
 */
describe(`${AnswerGenerator.name} when no answer comes`, () => {
  const namespace = testNamespace();
  const ns = new SubjectNamespace(namespace);
  let services: BuiltServices;
  let nats: NatsConnection;
  let rpc: RpcClient;
  let tenantId: string;
  /** A queue declared for this file that no worker serves. */
  const unserved = `inference-${randomUUID().slice(0, 8)}`;

  const generator = (queue: string, timeoutMs: number) =>
    new AnswerGenerator(
      rpc,
      nats,
      ns,
      { queue, timeoutMs, pollMs: 100 },
      pino({ level: 'silent' }),
    );
  const request = (onSubmitted?: (jobId: string) => void): GenerationRequest => ({
    tenantId,
    payload: {
      messages: [{ role: 'user', content: 'Is anyone there?' }],
      models: ['stand-in-small'],
      maxTokens: 16,
    },
    onSubmitted,
  });

  beforeAll(async () => {
    services = await startBuiltServices(namespace, ['tenants', 'scheduler']);
    nats = await connectNats(testNatsUrl(), 'answer-generator-test');
    rpc = new RpcClient(nats, testGatewaySigner(), ns);
    const slug = `t-${randomUUID().slice(0, 8)}`;
    ({ id: tenantId } = await rpc.request(
      TenantsCreate,
      { slug, name: slug, plan: 'professional' },
      testPlatformAdmin(),
    ));
    await rpc.request(
      SchedulerQueuesCreate,
      { name: unserved, workerPool: 'inference-worker', maxTenantShare: 1 },
      testPlatformAdmin(),
    );
  });
  afterAll(async () => {
    await services?.stop();
    await nats?.drain().catch(() => undefined);
  });

  it('answers UNAVAILABLE, naming the queue, when the answer queue is not declared', async () => {
    const missing = `inference-${randomUUID().slice(0, 8)}`;
    const error = await failure(
      generator(missing, 10_000).generate(developer(tenantId), request()),
    );
    expect(error.code).toBe(ErrorCode.Unavailable);
    expect(error.details).toMatchObject({ queue: missing });
  });

  it('answers TIMEOUT once the answer takes longer than allowed, and cancels its job', async () => {
    let jobId: string | undefined;
    const error = await failure(
      generator(unserved, 1_500).generate(
        developer(tenantId),
        request((id) => (jobId = id)),
      ),
    );
    expect(error.code).toBe(ErrorCode.Timeout);
    expect(jobId).toBeDefined();
    // the job does not linger for a worker that turns up later
    await eventually(async () =>
      expect(
        (await rpc.request(SchedulerJobsGet, { id: jobId!, tenantId }, developer(tenantId))).state,
      ).toBe('cancelled'),
    );
  });
});
