import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  PLATFORM_ADMIN_ROLE,
  SchedulerJobCancelled,
  SchedulerWorkReady,
  SubmitJobRequest,
} from '@lattice/contracts';
import { CursorCodec, TenantScope } from '@lattice/database';
import { AuditRecorder, EventBus } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { Clock } from '@lattice/service-runtime';
import {
  ManualClock,
  createTestBed,
  failure,
  provide,
  strictMock,
  type StrictMock,
} from '@lattice/testing';
import { EntityManager } from 'typeorm';
import { JobOutbox } from '../events/job-outbox';
import { PlanDirectory } from '../plans/plan-directory';
import { QueueRepository } from '../queues/queue.repository';
import { JobTransitions } from './job-transitions';
import { JobRepository, type JobRow } from './job.repository';
import { AGING_MS, JobService } from './job.service';

const NOW = new Date('2026-03-01T12:00:00Z');
const TENANT = '20000000-0000-4000-8000-000000000001';
const member = (roles = ['developer']): RequestContext => ({
  tenantId: TENANT,
  actor: { type: 'user', id: 'dev-1', roles },
  requestId: randomUUID(),
});

describe(JobService.name, () => {
  let sut: JobService;
  let jobs: StrictMock<JobRepository>;
  let audit: StrictMock<AuditRecorder>;
  let events: StrictMock<EventBus>;
  let queues: StrictMock<QueueRepository>;
  let plans: StrictMock<PlanDirectory>;
  let transitions: StrictMock<JobTransitions>;

  beforeEach(() => {
    const bed = createTestBed(JobService, [
      provide(Clock, new ManualClock(NOW)),
      provide(AGING_MS, 60_000),
      provide(CursorCodec, new CursorCodec(new Uint8Array(32))),
    ]);
    sut = bed.sut;
    const em = strictMock(EntityManager);
    bed.mocks.get(TenantScope).run.mockImplementation((_tenant, work) => work(em));
    jobs = bed.mocks.get(JobRepository);
    audit = bed.mocks.get(AuditRecorder);
    audit.record.mockReturnValue(randomUUID());
    events = bed.mocks.get(EventBus);
    events.publish.mockReturnValue(undefined);
    plans = bed.mocks.get(PlanDirectory);
    transitions = bed.mocks.get(JobTransitions);
    queues = bed.mocks.get(QueueRepository);
    queues.byName.mockResolvedValue({
      name: 'embedding',
      description: null,
      workerPool: 'pool',
      maxTenantShare: 0.2,
      defaultTimeoutSeconds: 120,
      defaultMaxAttempts: 4,
      gpusPerJob: 0,
      createdAt: NOW,
    });
    jobs.insert.mockImplementation((_em, row: JobRow) => Promise.resolve(row));
    bed.mocks.get(JobTransitions).recorded.mockResolvedValue(undefined);
    bed.mocks.get(JobOutbox).kick.mockResolvedValue(undefined);
  });

  const request = (body: Record<string, unknown> = {}) =>
    SubmitJobRequest.parse({ queue: 'embedding', type: 'embed', ...body });

  it('queues a job with the queue defaults, owned by its submitter, and audits it', async () => {
    const job = await sut.submit(member(), request({ priority: 'batch' }));
    expect(job).toMatchObject({
      state: 'queued',
      attempts: 0,
      maxAttempts: 4,
      timeoutSeconds: 120,
      tenantId: TENANT,
    });
    expect(jobs.insert.mock.calls[0]![1]).toMatchObject({
      ownerId: 'dev-1',
      // a batch job's place is two aging periods behind its submission
      orderKey: String(NOW.getTime() + 2 * 60_000),
    });
    expect(audit.record).toHaveBeenCalledWith(
      expect.objectContaining({ action: 'job.submit', tenantId: TENANT }),
    );
  });

  it('returns the earlier job for a replayed key, without auditing a second submit', async () => {
    jobs.byIdempotencyKey.mockResolvedValueOnce(null);
    const first = await sut.submit(member(), request({ idempotencyKey: 'k-1' }));
    const stored = jobs.insert.mock.calls[0]![1];
    jobs.byIdempotencyKey.mockResolvedValue(stored);
    const again = await sut.submit(member(), request({ idempotencyKey: 'k-1' }));
    expect(again.id).toBe(first.id);
    expect(audit.record).toHaveBeenCalledTimes(1);

    // the same key with another body is refused with the code the gateway answers 422
    const error = await failure(
      sut.submit(member(), request({ idempotencyKey: 'k-1', payload: { other: true } })),
    );
    expect(error.code).toBe(ErrorCode.IdempotencyMismatch);
  });

  it('takes no job from the platform tenant, nor from a role that may not submit', async () => {
    const operator: RequestContext = {
      tenantId: null,
      actor: { type: 'user', id: 'op', roles: [PLATFORM_ADMIN_ROLE] },
      requestId: randomUUID(),
    };
    expect((await failure(sut.submit(operator, request()))).code).toBe(ErrorCode.Forbidden);
    expect((await failure(sut.submit(member(['viewer']), request()))).code).toBe(
      ErrorCode.Forbidden,
    );
    expect(jobs.insert).not.toHaveBeenCalled();
  });

  it('lets a platform operator submit for the tenant it names, and no tenant for another', async () => {
    const other = '20000000-0000-4000-8000-000000000002';
    const operator: RequestContext = {
      tenantId: null,
      actor: { type: 'user', id: 'op', roles: [PLATFORM_ADMIN_ROLE] },
      requestId: randomUUID(),
    };
    const job = await sut.submit(operator, request({ tenantId: other }));
    expect(job.tenantId).toBe(other);
    expect(jobs.insert.mock.calls[0]![1]).toMatchObject({ tenantId: other, ownerId: 'op' });

    // a tenant's own member naming another tenant is refused, and nothing is written
    const error = await failure(sut.submit(member(['tenant-admin']), request({ tenantId: other })));
    expect(error.code).toBe(ErrorCode.Forbidden);
    expect(jobs.insert).toHaveBeenCalledTimes(1);
  });

  it('keeps one idempotency answer whether or not the operator names the tenant', async () => {
    jobs.byIdempotencyKey.mockResolvedValueOnce(null);
    const first = await sut.submit(member(), request({ idempotencyKey: 'k-2' }));
    jobs.byIdempotencyKey.mockResolvedValue(jobs.insert.mock.calls[0]![1]);
    const again = await sut.submit(member(), request({ idempotencyKey: 'k-2', tenantId: TENANT }));
    expect(again.id).toBe(first.id);
  });

  it('tells the queue workers that a job is ready, and not of one that waits for later', async () => {
    await sut.submit(member(), request());
    expect(events.publish).toHaveBeenCalledWith(SchedulerWorkReady, { queue: 'embedding' });
    events.publish.mockClear();
    await sut.submit(
      member(),
      request({ notBefore: new Date(NOW.getTime() + 60_000).toISOString() }),
    );
    expect(events.publish).not.toHaveBeenCalled();
  });

  it('refuses a job for a GPU queue once the tenant used up its GPU-seconds', async () => {
    queues.byName.mockResolvedValue({
      name: 'inference-v100',
      description: null,
      workerPool: 'v100',
      maxTenantShare: 0.2,
      defaultTimeoutSeconds: 120,
      defaultMaxAttempts: 4,
      gpusPerJob: 1,
      createdAt: NOW,
    });
    plans.gpuUsageOf.mockResolvedValueOnce({ used: 3_600, limit: 3_600 });
    const error = await failure(sut.submit(member(), request({ queue: 'inference-v100' })));
    expect(error.code).toBe(ErrorCode.QuotaExceeded);
    expect(error.details).toEqual({ resource: 'gpuSeconds', used: 3_600, limit: 3_600 });
    expect(jobs.insert).not.toHaveBeenCalled();

    plans.gpuUsageOf.mockResolvedValueOnce({ used: 3_599, limit: 3_600 });
    expect((await sut.submit(member(), request({ queue: 'inference-v100' }))).state).toBe('queued');
  });

  it('tells the worker holding a cancelled job to stop it', async () => {
    const submitted = await sut.submit(member(), request());
    const row = { ...jobs.insert.mock.calls[0]![1], ownerId: 'dev-1' };
    jobs.byId.mockResolvedValue({ ...row, state: 'running', leaseOwner: 'pod-7' });
    transitions.move.mockImplementation((_em, j, to, change) =>
      Promise.resolve({ ...j, ...change, state: to }),
    );
    events.publish.mockClear();
    const cancelled = await sut.cancel(member(), submitted.id);
    expect(cancelled.state).toBe('cancelled');
    expect(events.publish).toHaveBeenCalledWith(SchedulerJobCancelled, {
      jobId: submitted.id,
      workerId: 'pod-7',
    });

    // a job nobody holds: nobody to tell
    events.publish.mockClear();
    jobs.byId.mockResolvedValue({ ...row, state: 'queued', leaseOwner: null });
    await sut.cancel(member(), submitted.id);
    expect(events.publish).not.toHaveBeenCalled();
  });
});
