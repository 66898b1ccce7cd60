import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import type { NatsConnection, Subscription } from 'nats';
import { loadConfig } from '@lattice/config';
import {
  InferenceJobResult,
  PLATFORM_ADMIN_ROLE,
  SchedulerJobsCancel,
  SchedulerJobsGet,
  SchedulerJobsSubmit,
  SchedulerQueuesCreate,
  TenantsCreate,
  inferenceStreamSubject,
  interactiveInferenceJob,
  type InferenceJobPayload,
  type InferenceStreamChunk,
  type JobView,
} from '@lattice/contracts';
import { createLogger } from '@lattice/logging';
import { RpcClient, SubjectNamespace, connectNats } from '@lattice/messaging';
import {
  countStandInTokens,
  startModelServerStandIn,
  type RunningStandIn,
} from '@lattice/model-server-stand-in';
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

// the scheduler and the tenants service run from the build, and a busy machine is slow
jest.setTimeout(90_000);

const admin = (): RequestContext => ({
  tenantId: null,
  actor: { type: 'bootstrap', id: 'test-admin', roles: [PLATFORM_ADMIN_ROLE] },
  requestId: randomUUID(),
});
const member = (tenantId: string): RequestContext => ({
  tenantId,
  actor: { type: 'user', id: `user-of-${tenantId}`, roles: ['tenant-admin'] },
  requestId: randomUUID(),
});

const question = (text: string, passages: Record<string, string>) => [
  { role: 'system' as const, content: 'Answer only from the passages, citing them by id.' },
  {
    role: 'user' as const,
    content:
      Object.entries(passages)
        .map(([id, p]) => `<passage id="${id}">${p}</passage>`)
        .join('\n') + `\n<question>${text}</question>`,
  },
];

/**
 * The inference worker against the real scheduler and tenants service (from the build), real
 * NATS, and model-server stand-ins speaking the OpenAI protocol over HTTP. gpu-nodes does not
 * run here, so every model goes to the configured endpoints.
 */
describe('inference worker', () => {
  const namespace = testNamespace();
  const ns = new SubjectNamespace(namespace);
  let services: BuiltServices;
  let nats: NatsConnection;
  let rpc: RpcClient;
  let worker: INestApplication;
  /** Serves stand-in-small. */
  let small: RunningStandIn;
  /** Serves stand-in-large. */
  let large: RunningStandIn;
  /** Serves flaky-model, which the breaker test makes fail. */
  let flaky: RunningStandIn;
  let queue: string;
  let tenant: string;

  const submit = (payload: InferenceJobPayload | Record<string, unknown>) =>
    rpc.request(
      SchedulerJobsSubmit,
      // as a caller submits it, on this file's own queue
      { ...interactiveInferenceJob(payload as InferenceJobPayload), queue },
      member(tenant),
    );
  const get = (id: string) => rpc.request(SchedulerJobsGet, { id }, member(tenant));
  const finished = async (id: string): Promise<JobView> => {
    let job!: JobView;
    await eventually(async () => {
      job = await get(id);
      expect(['succeeded', 'failed', 'dead', 'cancelled']).toContain(job.state);
    });
    return job;
  };
  const listen = (subject: string) => {
    const chunks: InferenceStreamChunk[] = [];
    const sub: Subscription = nats.subscribe(ns.subject(subject), {
      callback: (_err, msg) => chunks.push(JSON.parse(new TextDecoder().decode(msg.data))),
    });
    return { chunks, sub };
  };

  beforeAll(async () => {
    services = await startBuiltServices(namespace, ['tenants', 'scheduler']);
    nats = await connectNats(testNatsUrl(), 'inference-worker-test');
    rpc = new RpcClient(nats, testGatewaySigner(), ns);
    queue = `inference-${randomUUID().slice(0, 8)}`;
    await rpc.request(
      SchedulerQueuesCreate,
      { name: queue, workerPool: 'inference-worker', maxTenantShare: 1, defaultTimeoutSeconds: 60 },
      admin(),
    );
    const slug = `t-${randomUUID().slice(0, 8)}`;
    tenant = (await rpc.request(TenantsCreate, { slug, name: slug, plan: 'professional' }, admin()))
      .id;

    small = await startModelServerStandIn({ models: ['stand-in-small'], tokenDelayMs: 1 });
    large = await startModelServerStandIn({ models: ['stand-in-large'], tokenDelayMs: 1 });
    flaky = await startModelServerStandIn({ models: ['flaky-model'] });
    const config = loadConfig(inferenceWorkerConfigSpec, {
      NATS_URL: testNatsUrl(),
      LATTICE_NAMESPACE: namespace,
      LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
      ...testContextEnv('inference-worker'),
      LOG_LEVEL: 'silent',
      INFERENCE_WORKER_HTTP_PORT: '0',
      INFERENCE_WORKER_QUEUE: queue,
      LATTICE_MODEL_ENDPOINTS: `stand-in-small=${small.url},stand-in-large=${large.url},flaky-model=${flaky.url}`,
      INFERENCE_CALL_TIMEOUT_MS: '60000',
      // opens once three calls in a row failed, and stays open for the rest of the file
      INFERENCE_BREAKER_MIN_CALLS: '3',
      INFERENCE_BREAKER_FAILURE_RATE: '1',
      INFERENCE_BREAKER_COOL_DOWN_MS: '3600000',
    });
    worker = await createInferenceWorkerApp(config, createLogger('inference-test', 'silent'), {
      workerId: `inference-${randomUUID().slice(0, 8)}`,
      pollMs: 200,
    });
  });
  afterAll(async () => {
    await worker?.close();
    for (const s of [small, large, flaky]) await s?.close();
    await services?.stop();
    await nats?.drain().catch(() => undefined);
  });
  afterEach(() => {
    for (const s of [small, large, flaky]) s.clearFailures();
  });

  it('streams an interactive job deltas in order on its subject, then its result with the provider usage', async () => {
    const subject = inferenceStreamSubject(randomUUID());
    const { chunks, sub } = listen(subject);
    const job = await submit({
      messages: question('Which port does the gateway listen on?', {
        'doc-1#0': 'The gateway listens on port 8080. It checks every token.',
        'doc-2#4': 'Invoices are sent monthly.',
      }),
      models: ['stand-in-small'],
      maxTokens: 200,
      stream: { subject },
    });
    expect(job.priority).toBe('interactive');

    const done = await finished(job.id);
    expect(done.state).toBe('succeeded');
    const result = InferenceJobResult.parse(done.result);
    expect(result.text).toBe('The gateway listens on port 8080. [doc-1#0]');
    expect(result).toMatchObject({
      model: 'stand-in-small',
      finishReason: 'stop',
      usageCounted: true,
    });
    // the model server's own count, not an estimate
    expect(result.usage.completionTokens).toBe(countStandInTokens(result.text));
    expect(result.attempts).toEqual([
      expect.objectContaining({
        model: 'stand-in-small',
        endpoint: small.url,
        outcome: 'succeeded',
      }),
    ]);

    await eventually(() => expect(chunks.at(-1)).toHaveProperty('done', true));
    sub.unsubscribe();
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
    const deltas = chunks.flatMap((c) => ('delta' in c ? [c.delta] : []));
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe(result.text);
    expect(chunks.at(-1)).toEqual({
      seq: chunks.length - 1,
      done: true,
      model: 'stand-in-small',
      usage: result.usage,
      finishReason: 'stop',
    });
  });

  it('falls back to the second model when the first one fails', async () => {
    small.setFailure('stand-in-small', '500');
    const calls = small.calls.length;
    const job = await submit({
      messages: question('What are invoices?', { a: 'Invoices are sent monthly.' }),
      models: ['stand-in-small', 'stand-in-large'],
      maxTokens: 50,
    });
    const done = await finished(job.id);
    expect(done.state).toBe('succeeded');
    const result = InferenceJobResult.parse(done.result);
    expect(result.model).toBe('stand-in-large');
    expect(result.text).toBe('Invoices are sent monthly. [a]');
    expect(result.attempts.map((a) => [a.model, a.outcome, a.status])).toEqual([
      ['stand-in-small', 'failed', 500],
      ['stand-in-large', 'succeeded', 200],
    ]);
    expect(small.calls.slice(calls).map((c) => c.status)).toEqual([500]);
  });

  it('opens the breaker of an endpoint that keeps failing, and skips it without calling it', async () => {
    flaky.setFailure('*', '503');
    const payload = {
      messages: question('What is sent monthly?', { a: 'Invoices are sent monthly.' }),
      models: ['flaky-model', 'stand-in-large'],
      maxTokens: 50,
    };
    for (let i = 0; i < 3; i++) {
      const done = await finished((await submit(payload)).id);
      expect(InferenceJobResult.parse(done.result).attempts[0]).toMatchObject({
        model: 'flaky-model',
        outcome: 'failed',
        status: 503,
      });
    }
    const calls = flaky.calls.length;
    const done = await finished((await submit(payload)).id);
    expect(done.state).toBe('succeeded');
    const result = InferenceJobResult.parse(done.result);
    expect(result.attempts.map((a) => [a.model, a.outcome])).toEqual([
      ['flaky-model', 'skipped'],
      ['stand-in-large', 'succeeded'],
    ]);
    expect(flaky.calls.length).toBe(calls);
    const metrics = await (
      await fetch(`${await worker.getUrl()}/metrics`.replace('[::1]', '127.0.0.1'))
    ).text();
    expect(metrics).toContain(`lattice_inference_breaker_state{endpoint="${flaky.url}"} 2`);
  });

  it('aborts the upstream call when the job is cancelled', async () => {
    small.setFailure('stand-in-small', 'slow');
    const calls = small.calls.length;
    const job = await submit({
      messages: question('Anything?', { a: 'Something.' }),
      models: ['stand-in-small'],
      maxTokens: 50,
    });
    await eventually(() => expect(small.calls[calls]?.outcome).toBe('in-progress'));
    const cancelled = await rpc.request(SchedulerJobsCancel, { id: job.id }, member(tenant));
    expect(cancelled.state).toBe('cancelled');
    await eventually(() => expect(small.calls[calls]?.outcome).toBe('client-closed'));
    expect((await get(job.id)).state).toBe('cancelled');
  });

  it('fails a job whose payload is not a chat completion at once, for good', async () => {
    const job = await submit({ messages: [], models: ['stand-in-small'], maxTokens: 10 });
    const done = await finished(job.id);
    expect(done).toMatchObject({ state: 'failed', attempts: 1 });
    expect(done.lastError).toMatch(/^PermanentJobError: the payload is not a chat completion/);
  });
});
