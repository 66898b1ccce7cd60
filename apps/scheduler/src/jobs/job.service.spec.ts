import { randomUUID } from 'node:crypto';
import { ErrorCode, PLATFORM_ADMIN_ROLE, SubmitJobRequest } from '@lattice/contracts';
import { CursorCodec, TenantScope } from '@lattice/database';
import { AuditRecorder } from '@lattice/messaging';
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
    bed.mocks.get(QueueRepository).byName.mockResolvedValue({
      name: 'embedding',
      description: null,
      workerPool: 'pool',
      maxTenantShare: 0.2,
      defaultTimeoutSeconds: 120,
      defaultMaxAttempts: 4,
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
});
