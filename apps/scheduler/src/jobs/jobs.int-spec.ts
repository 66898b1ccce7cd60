import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  SchedulerDeadLettersList,
  SchedulerDeadLettersRetry,
  SchedulerJobsCancel,
  SchedulerJobsComplete,
  SchedulerJobsFail,
  SchedulerJobsGet,
  SchedulerJobsHeartbeat,
  SchedulerJobsLease,
  SchedulerJobsList,
  SchedulerJobsProgress,
  SchedulerJobsStart,
  SchedulerJobsSubmit,
  SchedulerQueueDepth,
  SchedulerQueuesCreate,
  SchedulerQueuesGet,
  SchedulerQueuesList,
  SchedulerWorkersRegister,
  type JobProgress,
  type QueueView,
  type SubmitJobRequest,
} from '@lattice/contracts';
import { ManualClock, eventually, failure } from '@lattice/testing';
import { DispatchService } from '../dispatch/dispatch.service';
import {
  platformOperator,
  startSchedulerTestBed,
  tenantMember,
  worker,
  type SchedulerTestBed,
} from '../../test/scheduler.test-bed';

// each file starts the tenants (or scheduler) service from the build, and a busy machine is slow
jest.setTimeout(60_000);

const LEASE_MS = 30_000;
const BASE_MS = 5_000;

describe('scheduler jobs', () => {
  let bed: SchedulerTestBed;
  const clock = new ManualClock(new Date('2026-03-01T12:00:00Z'));
  let tenant: string;
  let other: string;
  let queue: QueueView;

  const submit = (body: Partial<SubmitJobRequest> = {}, ctx = tenantMember(tenant)) =>
    bed.rpc.request(
      SchedulerJobsSubmit,
      { queue: queue.name, type: 'echo', payload: { n: 1 }, ...body },
      ctx,
    );
  const register = async (workerId: string, concurrency = 10, on = queue.name) =>
    bed.rpc.request(SchedulerWorkersRegister, { workerId, queue: on, concurrency }, worker());
  const lease = (workerId: string, max = 10, on = queue.name) =>
    bed.rpc.request(SchedulerJobsLease, { workerId, queue: on, max }, worker());
  const get = (id: string, ctx = tenantMember(tenant)) =>
    bed.rpc.request(SchedulerJobsGet, { id }, ctx);
  const transitionsOf = async (id: string) =>
    (
      (await bed.ownerDb.query(
        `SELECT from_state, to_state, attempt, worker_id, error
           FROM scheduler.job_transitions WHERE job_id = $1 ORDER BY id`,
        [id],
      )) as {
        from_state: string | null;
        to_state: string;
        attempt: number;
        worker_id: string | null;
      }[]
    ).map((t) => `${t.from_state ?? '-'}>${t.to_state}@${t.attempt}:${t.worker_id ?? '-'}`);

  beforeAll(async () => {
    bed = await startSchedulerTestBed({
      clock,
      random: () => 0.5,
      env: {
        SCHEDULER_LEASE_SECONDS: String(LEASE_MS / 1000),
        SCHEDULER_RETRY_BASE_SECONDS: String(BASE_MS / 1000),
      },
    });
    tenant = await bed.newTenant('professional');
    other = await bed.newTenant('starter');
  });
  afterAll(() => bed?.close());
  // each test on a queue of its own, so figures and leases of one do not leak into another
  beforeEach(async () => {
    queue = await bed.newQueue();
  });

  it('runs a job from submit through lease and start to success, recording each move', async () => {
    const job = await submit({ labels: { team: 'search' } });
    expect(job).toMatchObject({
      state: 'queued',
      attempts: 0,
      maxAttempts: 3,
      labels: { team: 'search' },
    });

    await register('w-1');
    const { jobs } = await lease('w-1');
    expect(jobs.map((j) => j.id)).toEqual([job.id]);
    expect(jobs[0]).toMatchObject({ attempts: 1, payload: { n: 1 }, tenantId: tenant });
    expect((await lease('w-1')).jobs).toEqual([]);

    await bed.rpc.request(SchedulerJobsStart, { workerId: 'w-1', jobId: job.id }, worker());
    const done = await bed.rpc.request(
      SchedulerJobsComplete,
      { workerId: 'w-1', jobId: job.id, result: { answer: 42 } },
      worker(),
    );
    expect(done).toEqual({ id: job.id, state: 'succeeded', attempts: 1 });
    expect(await get(job.id)).toMatchObject({
      state: 'succeeded',
      result: { answer: 42 },
      leaseOwner: null,
    });
    expect(await transitionsOf(job.id)).toEqual([
      '->queued@0:-',
      'queued>leased@1:w-1',
      'leased>running@1:w-1',
      'running>succeeded@1:w-1',
    ]);
    await eventually(async () => {
      const events = (await bed.jobEvents()).filter((e) => e.jobId === job.id);
      expect(events.map((e) => e.to)).toEqual(['queued', 'leased', 'running', 'succeeded']);
    });
  });

  it('refuses to complete a job that never started: no state is skipped', async () => {
    const job = await submit();
    await register('w-skip');
    await lease('w-skip');
    const error = await failure(
      bed.rpc.request(SchedulerJobsComplete, { workerId: 'w-skip', jobId: job.id }, worker()),
    );
    expect(error.code).toBe(ErrorCode.InvalidState);
    expect((await get(job.id)).state).toBe('leased');
  });

  it('returns the same job for the same idempotency key and body, and 422s another body', async () => {
    const key = `key-${randomUUID()}`;
    const first = await submit({ idempotencyKey: key, payload: { text: 'a' } });
    const again = await submit({ idempotencyKey: key, payload: { text: 'a' } });
    expect(again.id).toBe(first.id);

    const error = await failure(submit({ idempotencyKey: key, payload: { text: 'b' } }));
    expect(error.code).toBe(ErrorCode.IdempotencyMismatch);

    // the key is the tenant's own: another tenant may use it for a job of its own
    const theirs = await submit({ idempotencyKey: key }, tenantMember(other));
    expect(theirs.id).not.toBe(first.id);
    const mine = await bed.ownerDb.query(
      `SELECT count(*)::int AS n FROM scheduler.jobs WHERE idempotency_key = $1`,
      [key],
    );
    expect(mine[0].n).toBe(2);
  });

  it('makes one job of the same key submitted many times at once', async () => {
    const key = `race-${randomUUID()}`;
    const jobs = await Promise.all(
      Array.from({ length: 10 }, () => submit({ idempotencyKey: key, payload: { text: 'same' } })),
    );
    expect(new Set(jobs.map((j) => j.id)).size).toBe(1);
    const [{ n }] = await bed.ownerDb.query(
      `SELECT count(*)::int AS n FROM scheduler.jobs WHERE idempotency_key = $1`,
      [key],
    );
    expect(n).toBe(1);
  });

  it('refuses a job for a queue that does not exist', async () => {
    const error = await failure(submit({ queue: 'no-such-queue' }));
    expect(error.code).toBe(ErrorCode.NotFound);
  });

  it('hides another tenant job as not found', async () => {
    const job = await submit();
    const error = await failure(get(job.id, tenantMember(other)));
    expect(error.code).toBe(ErrorCode.NotFound);
    const cancel = await failure(
      bed.rpc.request(SchedulerJobsCancel, { id: job.id }, tenantMember(other)),
    );
    expect(cancel.code).toBe(ErrorCode.NotFound);
  });

  it('lists jobs page by page with a cursor bound to the filters', async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await submit({ type: 'listed' })).id);
      clock.advance(1);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await bed.rpc.request(
        SchedulerJobsList,
        { queue: queue.name, type: 'listed', limit: 2, cursor },
        tenantMember(tenant),
      );
      seen.push(...page.items.map((j) => j.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    const first = await bed.rpc.request(
      SchedulerJobsList,
      { queue: queue.name, limit: 2 },
      tenantMember(tenant),
    );
    const error = await failure(
      bed.rpc.request(
        SchedulerJobsList,
        { queue: queue.name, limit: 2, cursor: first.nextCursor! },
        tenantMember(other),
      ),
    );
    expect(error.code).toBe(ErrorCode.ValidationFailed);
  });

  it('lets a developer cancel only its own jobs, and a service account see only its own', async () => {
    const alice = tenantMember(tenant, ['developer'], 'alice');
    const bob = tenantMember(tenant, ['developer'], 'bob');
    const robot = tenantMember(tenant, ['service-account'], 'robot');
    const hers = await submit({}, alice);
    const its = await submit({}, robot);

    // developers read every job of their tenant, but change only their own
    expect((await get(hers.id, bob)).id).toBe(hers.id);
    const cancel = await failure(bed.rpc.request(SchedulerJobsCancel, { id: hers.id }, bob));
    expect(cancel.code).toBe(ErrorCode.Forbidden);
    expect((await bed.rpc.request(SchedulerJobsCancel, { id: hers.id }, alice)).state).toBe(
      'cancelled',
    );

    const listed = await bed.rpc.request(SchedulerJobsList, { queue: queue.name }, robot);
    expect(listed.items.map((j) => j.id)).toEqual([its.id]);
    expect((await failure(get(hers.id, robot))).code).toBe(ErrorCode.NotFound);
  });

  it('cancels a queued job, and tells the worker holding a running one to stop', async () => {
    const waiting = await submit();
    const cancelled = await bed.rpc.request(
      SchedulerJobsCancel,
      { id: waiting.id },
      tenantMember(tenant),
    );
    expect(cancelled.state).toBe('cancelled');
    expect((await lease('w-none-yet').catch(() => ({ jobs: [] }))).jobs).toEqual([]);

    const running = await submit();
    await register('w-cancel');
    expect((await lease('w-cancel')).jobs.map((j) => j.id)).toEqual([running.id]);
    await bed.rpc.request(
      SchedulerJobsStart,
      { workerId: 'w-cancel', jobId: running.id },
      worker(),
    );
    await bed.rpc.request(SchedulerJobsCancel, { id: running.id }, tenantMember(tenant));

    const beat = await bed.rpc.request(
      SchedulerJobsHeartbeat,
      { workerId: 'w-cancel', jobIds: [running.id] },
      worker(),
    );
    expect(beat).toMatchObject({ held: [], stop: [running.id] });
    const late = await failure(
      bed.rpc.request(SchedulerJobsComplete, { workerId: 'w-cancel', jobId: running.id }, worker()),
    );
    expect(late.code).toBe(ErrorCode.InvalidState);
    expect((await get(running.id)).state).toBe('cancelled');
    expect(
      (
        await failure(
          bed.rpc.request(SchedulerJobsCancel, { id: running.id }, tenantMember(tenant)),
        )
      ).code,
    ).toBe(ErrorCode.InvalidState);
  });

  it('backs a retryable failure off exponentially, then kills the job after its last attempt', async () => {
    const job = await submit({ maxAttempts: 3 });
    await register('w-retry');
    const attempt = async () => {
      expect((await lease('w-retry')).jobs.map((j) => j.id)).toEqual([job.id]);
      await bed.rpc.request(SchedulerJobsStart, { workerId: 'w-retry', jobId: job.id }, worker());
      return bed.rpc.request(
        SchedulerJobsFail,
        { workerId: 'w-retry', jobId: job.id, error: 'model server busy', retryable: true },
        worker(),
      );
    };

    expect(await attempt()).toEqual({ id: job.id, state: 'queued', attempts: 1 });
    const first = await get(job.id);
    // equal jitter at 0.5: three quarters of the ceiling, which doubles with each attempt
    expect(Date.parse(first.notBefore) - clock.now().getTime()).toBe(0.75 * BASE_MS);
    expect(first.lastError).toBe('model server busy');
    expect((await lease('w-retry')).jobs).toEqual([]);

    clock.advance(0.75 * BASE_MS);
    expect(await attempt()).toEqual({ id: job.id, state: 'queued', attempts: 2 });
    expect(Date.parse((await get(job.id)).notBefore) - clock.now().getTime()).toBe(1.5 * BASE_MS);

    clock.advance(1.5 * BASE_MS);
    expect(await attempt()).toEqual({ id: job.id, state: 'dead', attempts: 3 });

    const dead = await bed.rpc.request(
      SchedulerDeadLettersList,
      { queue: queue.name },
      tenantMember(tenant),
    );
    expect(dead.items.map((j) => j.id)).toEqual([job.id]);
    const retried = await bed.rpc.request(
      SchedulerDeadLettersRetry,
      { id: job.id },
      tenantMember(tenant),
    );
    expect(retried).toMatchObject({ state: 'queued', attempts: 0 });
    expect((await lease('w-retry')).jobs.map((j) => j.attempts)).toEqual([1]);
  });

  it('fails a job at once on a permanent failure', async () => {
    const job = await submit();
    await register('w-perm');
    await lease('w-perm');
    const reply = await bed.rpc.request(
      SchedulerJobsFail,
      { workerId: 'w-perm', jobId: job.id, error: 'bad input', retryable: false },
      worker(),
    );
    expect(reply.state).toBe('failed');
  });

  it('returns the jobs of a worker that stopped heartbeating, counting the attempt, and kills them after the last', async () => {
    const job = await submit({ maxAttempts: 2 });
    const sweeper = bed.app.get(DispatchService);
    await register('w-dies');
    await lease('w-dies');
    await bed.rpc.request(SchedulerJobsStart, { workerId: 'w-dies', jobId: job.id }, worker());

    // a heartbeat keeps it
    clock.advance(LEASE_MS - 1_000);
    await bed.rpc.request(
      SchedulerJobsHeartbeat,
      { workerId: 'w-dies', jobIds: [job.id] },
      worker(),
    );
    clock.advance(LEASE_MS - 1_000);
    await sweeper.expireLeases();
    expect((await get(job.id)).state).toBe('running');

    clock.advance(2_000);
    await sweeper.expireLeases();
    const back = await get(job.id);
    expect(back).toMatchObject({
      state: 'queued',
      attempts: 1,
      leaseOwner: null,
      lastError: 'the lease expired',
    });

    // the dead worker's late report is refused; another worker takes the job
    expect(
      (
        await failure(
          bed.rpc.request(SchedulerJobsComplete, { workerId: 'w-dies', jobId: job.id }, worker()),
        )
      ).code,
    ).toBe(ErrorCode.InvalidState);
    clock.advance(BASE_MS);
    await register('w-next');
    expect((await lease('w-next')).jobs.map((j) => j.attempts)).toEqual([2]);
    clock.advance(LEASE_MS + 1);
    await sweeper.expireLeases();
    expect(await get(job.id)).toMatchObject({ state: 'dead', attempts: 2 });
    expect(await transitionsOf(job.id)).toEqual([
      '->queued@0:-',
      'queued>leased@1:w-dies',
      'leased>running@1:w-dies',
      'running>queued@1:w-dies',
      'queued>leased@2:w-next',
      'leased>dead@2:w-next',
    ]);
  });

  it('returns a job that runs past its timeout, however its worker heartbeats', async () => {
    const job = await submit({ timeoutSeconds: 60, maxAttempts: 2 });
    await register('w-slow');
    await lease('w-slow');
    await bed.rpc.request(SchedulerJobsStart, { workerId: 'w-slow', jobId: job.id }, worker());
    for (let beat = 0; beat < 3; beat++) {
      clock.advance(25_000);
      await bed.rpc.request(
        SchedulerJobsHeartbeat,
        { workerId: 'w-slow', jobIds: [job.id] },
        worker(),
      );
      await bed.app.get(DispatchService).expireLeases();
    }
    expect(await get(job.id)).toMatchObject({
      state: 'queued',
      attempts: 1,
      lastError: 'the job ran past its timeout',
    });
  });

  it('audits every call that changes a job, under the job tenant', async () => {
    const job = await submit();
    await register('w-audit');
    await lease('w-audit');
    await bed.rpc.request(SchedulerJobsStart, { workerId: 'w-audit', jobId: job.id }, worker());
    await bed.rpc.request(SchedulerJobsCancel, { id: job.id }, tenantMember(tenant));
    await eventually(async () => {
      const actions = (await bed.auditEvents())
        .filter((e) => e.resource.id === job.id)
        .map((e) => `${e.action}:${e.tenantId === tenant ? 'tenant' : e.tenantId}`);
      // published concurrently, so in no promised order
      expect(actions.sort()).toEqual(
        ['job.submit:tenant', 'job.lease:tenant', 'job.start:tenant', 'job.cancel:tenant'].sort(),
      );
    });
  });

  it('caps what a tenant holds, across queues, at its plan concurrentJobs', async () => {
    const free = await bed.newTenant('free'); // concurrentJobs 1
    await submit({}, tenantMember(free));
    await submit({}, tenantMember(free));
    await register('w-cap');
    expect((await lease('w-cap')).jobs).toHaveLength(1);
    expect((await lease('w-cap')).jobs).toHaveLength(0);

    // the cap counts every queue: a job waiting elsewhere waits too
    const elsewhere = await bed.newQueue();
    await submit({ queue: elsewhere.name }, tenantMember(free));
    await register('w-cap-elsewhere', 10, elsewhere.name);
    expect((await lease('w-cap-elsewhere', 10, elsewhere.name)).jobs).toHaveLength(0);
  });

  it('answers the queue depth across tenants, and each tenant its own figures', async () => {
    await submit();
    await submit();
    await submit({}, tenantMember(other));
    await register('w-depth', 1);
    await lease('w-depth', 1);

    const depth = await bed.rpc.request(SchedulerQueueDepth, { queue: queue.name }, worker());
    expect(depth).toMatchObject({ queue: queue.name, queued: 2, inFlight: 1 });

    const mine = await bed.rpc.request(
      SchedulerQueuesGet,
      { name: queue.name },
      tenantMember(other),
    );
    expect(mine.figuresOf).toBe('tenant');
    expect(mine.figures.queued + mine.figures.running).toBe(1);
    const all = await bed.rpc.request(SchedulerQueuesGet, { name: queue.name }, platformOperator());
    expect(all).toMatchObject({ figuresOf: 'every-tenant', figures: { queued: 2, running: 1 } });
    const listed = await bed.rpc.request(SchedulerQueuesList, {}, tenantMember(tenant));
    expect(listed.items.map((q) => q.name)).toContain(queue.name);

    // a tenant user may not ask for the platform-wide depth
    expect(
      (
        await failure(
          bed.rpc.request(SchedulerQueueDepth, { queue: queue.name }, tenantMember(tenant)),
        )
      ).code,
    ).toBe(ErrorCode.Forbidden);
  });

  it('keeps the progress the holder of a job reports and shows it with the job; refuses it from another worker, after the lease, or malformed', async () => {
    const report = (workerId: string, progress: JobProgress, jobId: string) =>
      bed.rpc.request(SchedulerJobsProgress, { workerId, jobId, progress }, worker());
    const job = await submit();
    expect(job.progress).toBeNull();
    await register('w-progress');
    await register('w-bystander');
    await lease('w-progress');
    await bed.rpc.request(SchedulerJobsStart, { workerId: 'w-progress', jobId: job.id }, worker());

    const reply = await report(
      'w-progress',
      { done: 3, total: 10, stage: 'embed', message: 'batch 1 of 4' },
      job.id,
    );
    expect(reply).toEqual({ id: job.id, state: 'running', attempts: 1 });
    expect((await get(job.id)).progress).toEqual({
      done: 3,
      total: 10,
      stage: 'embed',
      message: 'batch 1 of 4',
      attempt: 1,
      reportedAt: clock.now().toISOString(),
    });
    // done may go back (a stage that starts over); what is left out is no longer shown
    clock.advance(1_000);
    await report('w-progress', { done: 0, total: 4, stage: 'index' }, job.id);
    const latest = {
      done: 0,
      total: 4,
      stage: 'index',
      message: null,
      attempt: 1,
      reportedAt: clock.now().toISOString(),
    };
    expect((await get(job.id)).progress).toEqual(latest);
    const listed = await bed.rpc.request(
      SchedulerJobsList,
      { queue: queue.name },
      tenantMember(tenant),
    );
    expect(listed.items.find((j) => j.id === job.id)?.progress).toEqual(latest);

    // from a worker that does not hold it, or for a job that does not exist
    const bystander = await failure(report('w-bystander', { done: 4, total: 4 }, job.id));
    expect(bystander.code).toBe(ErrorCode.InvalidState);
    expect(bystander.details).toEqual({ state: 'running' });
    const unknown = await failure(report('w-progress', { done: 1, total: 1 }, randomUUID()));
    expect(unknown.code).toBe(ErrorCode.NotFound);
    // from a tenant's caller rather than a worker
    const tenantCall = await failure(
      bed.rpc.request(
        SchedulerJobsProgress,
        { workerId: 'w-progress', jobId: job.id, progress: { done: 1, total: 4 } },
        tenantMember(tenant),
      ),
    );
    expect(tenantCall.code).toBe(ErrorCode.Forbidden);
    // malformed
    for (const progress of [
      { done: 5, total: 4 },
      { done: -1, total: 4 },
      { done: 1.5, total: 4 },
      { done: 1, total: 2e12 },
      { done: 1, total: 4, stage: 'Not A Stage' },
      { done: 1, total: 4, message: 'x'.repeat(501) },
      { done: 1, total: 4, percent: 25 },
      { total: 4 },
    ]) {
      const malformed = await failure(report('w-progress', progress as JobProgress, job.id));
      expect({ progress, code: malformed.code }).toEqual({
        progress,
        code: ErrorCode.ValidationFailed,
      });
    }
    expect((await get(job.id)).progress).toEqual(latest);

    // a job that ended takes no more
    const ended = await submit();
    await lease('w-progress');
    await bed.rpc.request(
      SchedulerJobsStart,
      { workerId: 'w-progress', jobId: ended.id },
      worker(),
    );
    await report('w-progress', { done: 2, total: 2 }, ended.id);
    await bed.rpc.request(
      SchedulerJobsComplete,
      { workerId: 'w-progress', jobId: ended.id },
      worker(),
    );
    const afterEnd = await failure(report('w-progress', { done: 1, total: 2 }, ended.id));
    expect(afterEnd.code).toBe(ErrorCode.InvalidState);
    expect(afterEnd.details).toEqual({ state: 'succeeded' });
    expect((await get(ended.id)).progress).toMatchObject({ done: 2, total: 2 });

    // nor does one whose lease ran out, even before the sweep returns it to its queue
    clock.advance(LEASE_MS + 1);
    const lapsed = await failure(report('w-progress', { done: 1, total: 4 }, job.id));
    expect(lapsed.code).toBe(ErrorCode.InvalidState);
    expect((await get(job.id)).progress).toEqual(latest);
  });

  it('keeps queues to platform operators and worker calls to services', async () => {
    const create = await failure(
      bed.rpc.request(
        SchedulerQueuesCreate,
        { name: `mine-${randomUUID().slice(0, 8)}`, workerPool: 'mine' },
        tenantMember(tenant, ['tenant-owner']),
      ),
    );
    expect(create.code).toBe(ErrorCode.Forbidden);
    const lease = await failure(
      bed.rpc.request(
        SchedulerJobsLease,
        { workerId: 'sneaky', queue: queue.name, max: 1 },
        tenantMember(tenant),
      ),
    );
    expect(lease.code).toBe(ErrorCode.Forbidden);
  });
});
