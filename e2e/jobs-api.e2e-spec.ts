import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  SchedulerJobsComplete,
  SchedulerJobsLease,
  SchedulerJobsProgress,
  SchedulerJobsStart,
  SchedulerWorkersRegister,
} from '@lattice/contracts';
import { RpcClient, SubjectNamespace, connectNats } from '@lattice/messaging';
import { serviceContext } from '@lattice/request-context';
import { failure, testGatewaySigner } from '@lattice/testing';
import { E2E_WORKER, startE2EPlatform, type E2EPlatform } from './support/platform.harness';

jest.setTimeout(60_000);

describe('jobs API through the gateway', () => {
  let platform: E2EPlatform;
  const password = 'a-password-long-enough';
  const queue = `e2e-${randomUUID().slice(0, 8)}`;
  let alice: string;
  let bob: string;

  /** A tenant with one tenant admin; returns the admin's access token. */
  async function tenantAdmin(): Promise<string> {
    const slug = `jobs-${randomUUID().slice(0, 8)}`;
    const tenant = await platform.call('/v1/tenants', {
      method: 'POST',
      json: { slug, name: slug, plan: 'professional' },
    });
    expect(tenant.status).toBe(201);
    const email = `admin-${randomUUID().slice(0, 6)}@example.com`;
    const user = await platform.call('/v1/users', {
      method: 'POST',
      json: { tenantId: (await tenant.json()).id, email, password, roles: ['tenant-admin'] },
    });
    expect(user.status).toBe(201);
    return (await platform.login(slug, email, password)).accessToken;
  }

  beforeAll(async () => {
    platform = await startE2EPlatform();
    const created = await platform.call('/v1/queues', {
      method: 'POST',
      json: { name: queue, workerPool: 'e2e-workers', maxTenantShare: 0.5 },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/queues/${queue}`);
    alice = await tenantAdmin();
    bob = await tenantAdmin();
  });
  afterAll(async () => {
    if (process.env.E2E_DUMP_LOGS)
      console.log(platform.logs.filter((l) => /error|warn|fatal/.test(l)).join('\n'));
    await platform?.stop();
  });

  const submit = (body: Record<string, unknown>, token = alice) =>
    platform.call('/v1/jobs', {
      method: 'POST',
      token,
      json: { queue, type: 'embed', payload: { text: 'hello' }, ...body },
    });

  it('submits, reads, lists and cancels a job; another tenant is told it does not exist', async () => {
    const response = await submit({ priority: 'interactive', labels: { app: 'e2e' } });
    expect(response.status).toBe(201);
    const job = await response.json();
    expect(response.headers.get('location')).toBe(`/v1/jobs/${job.id}`);
    expect(job).toMatchObject({ queue, state: 'queued', priority: 'interactive', attempts: 0 });

    const fetched = await platform.call(`/v1/jobs/${job.id}`, { token: alice });
    expect(fetched.status).toBe(200);
    expect(await fetched.json()).toEqual(job);

    const listed = await (
      await platform.call(`/v1/jobs?queue=${queue}&state=queued`, { token: alice })
    ).json();
    expect(listed.items.map((j: { id: string }) => j.id)).toEqual([job.id]);

    const queueView = await (await platform.call(`/v1/queues/${queue}`, { token: alice })).json();
    expect(queueView).toMatchObject({ figuresOf: 'tenant', figures: { queued: 1, running: 0 } });

    const theirs = await platform.call(`/v1/jobs/${job.id}`, { token: bob });
    expect(theirs.status).toBe(404);
    expect(theirs.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const theirCancel = await platform.call(`/v1/jobs/${job.id}/cancel`, {
      method: 'POST',
      token: bob,
    });
    expect(theirCancel.status).toBe(404);
    const bobsList = await (await platform.call(`/v1/jobs?queue=${queue}`, { token: bob })).json();
    expect(bobsList.items).toEqual([]);

    const cancelled = await platform.call(`/v1/jobs/${job.id}/cancel`, {
      method: 'POST',
      token: alice,
    });
    expect(cancelled.status).toBe(200);
    expect((await cancelled.json()).state).toBe('cancelled');
    const again = await platform.call(`/v1/jobs/${job.id}/cancel`, {
      method: 'POST',
      token: alice,
    });
    expect(again.status).toBe(409);
  });

  it('shows the progress its worker reports on GET /v1/jobs/{id}, and keeps the last after the job ends', async () => {
    const job = await (await submit({ type: 'ingest' })).json();
    expect(job.progress).toBeNull();
    const nc = await connectNats(
      platform.natsUrl,
      'jobs-e2e-worker',
      platform.natsCredentialsOf(E2E_WORKER.service),
    );
    try {
      // a worker, as the scheduler's workers speak over NATS under their own NATS user
      const rpc = new RpcClient(nc, testGatewaySigner(), new SubjectNamespace(platform.namespace));
      const ctx = serviceContext('jobs-e2e-worker');
      const workerId = `jobs-e2e-${randomUUID().slice(0, 8)}`;
      await rpc.request(SchedulerWorkersRegister, { workerId, queue, concurrency: 50 }, ctx);
      const { jobs } = await rpc.request(SchedulerJobsLease, { workerId, queue, max: 50 }, ctx);
      expect(jobs.map((j) => j.id)).toContain(job.id);
      await rpc.request(SchedulerJobsStart, { workerId, jobId: job.id }, ctx);
      await rpc.request(
        SchedulerJobsProgress,
        { workerId, jobId: job.id, progress: { done: 40, total: 120, stage: 'embed' } },
        ctx,
      );

      const read = async () => (await platform.call(`/v1/jobs/${job.id}`, { token: alice })).json();
      expect((await read()).progress).toMatchObject({
        done: 40,
        total: 120,
        stage: 'embed',
        message: null,
        attempt: 1,
      });
      const malformed = await failure(
        rpc.request(
          SchedulerJobsProgress,
          { workerId, jobId: job.id, progress: { done: 121, total: 120 } },
          ctx,
        ),
      );
      expect(malformed.code).toBe(ErrorCode.ValidationFailed);

      await rpc.request(SchedulerJobsComplete, { workerId, jobId: job.id }, ctx);
      const late = await failure(
        rpc.request(
          SchedulerJobsProgress,
          { workerId, jobId: job.id, progress: { done: 1, total: 120 } },
          ctx,
        ),
      );
      expect(late.code).toBe(ErrorCode.InvalidState);
      expect(await read()).toMatchObject({
        state: 'succeeded',
        progress: { done: 40, total: 120, stage: 'embed' },
      });
    } finally {
      await nc.drain();
    }
  });

  it('replays an idempotency key with the same body, and answers 422 to another body', async () => {
    const key = `e2e-${randomUUID()}`;
    const first = await submit({ idempotencyKey: key });
    expect(first.status).toBe(201);
    const replay = await submit({ idempotencyKey: key });
    expect((await replay.json()).id).toBe((await first.json()).id);
    const other = await submit({ idempotencyKey: key, payload: { text: 'something else' } });
    expect(other.status).toBe(422);
    expect((await other.json()).code).toBe('IDEMPOTENCY_MISMATCH');
  });

  it('refuses a payload over its size bound, and a queue that does not exist', async () => {
    const big = await submit({ payload: { text: 'x'.repeat(70 * 1024) } });
    expect([400, 413]).toContain(big.status);
    const nowhere = await submit({ queue: 'no-such-queue' });
    expect(nowhere.status).toBe(404);
  });

  it('shows the platform every tenant in the queue figures, and a tenant its own', async () => {
    await submit({});
    await submit({}, bob);
    const all = await (await platform.call(`/v1/queues/${queue}`)).json();
    expect(all.figuresOf).toBe('every-tenant');
    expect(all.figures.queued).toBeGreaterThanOrEqual(2);
    const mine = await (await platform.call(`/v1/queues/${queue}`, { token: bob })).json();
    expect(mine.figures.queued).toBe(1);
  });
});
