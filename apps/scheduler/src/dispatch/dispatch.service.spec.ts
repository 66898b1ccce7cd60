import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { AuditRecorder, EventBus } from '@lattice/messaging';
import { serviceContext, type RequestContext } from '@lattice/request-context';
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
import { PlanDirectory, type TenantPlan } from '../plans/plan-directory';
import { QueueRepository } from '../queues/queue.repository';
import { JobTransitions } from '../jobs/job-transitions';
import { JobRepository, type JobRow } from '../jobs/job.repository';
import { WorkerRepository } from '../workers/worker.repository';
import { DispatchRepository, type HeadJob } from './dispatch.repository';
import { DISPATCH_SETTINGS, DispatchService, type DispatchSettings } from './dispatch.service';

const NOW = new Date('2026-03-01T12:00:00Z');
const SETTINGS: DispatchSettings = {
  leaseMs: 30_000,
  retryBaseMs: 1_000,
  retryMaxMs: 60_000,
  agingMs: 60_000,
  random: () => 0.5,
};
const QUEUE = 'inference';
const ENTERPRISE = '10000000-0000-4000-8000-000000000001';
const FREE = '10000000-0000-4000-8000-000000000002';

const PLANS: Record<string, TenantPlan> = {
  [ENTERPRISE]: { plan: 'enterprise', concurrentJobs: 100, fairShareWeight: 50 },
  [FREE]: { plan: 'free', concurrentJobs: 1, fairShareWeight: 5 },
};

function job(tenantId: string, changes: Partial<JobRow> = {}): JobRow {
  return {
    id: randomUUID(),
    tenantId,
    ownerId: 'u-1',
    queue: QUEUE,
    type: 'echo',
    payload: {},
    priority: 'standard',
    state: 'queued',
    attempts: 0,
    maxAttempts: 3,
    timeoutSeconds: 60,
    notBefore: NOW,
    orderKey: '0',
    idempotencyKey: null,
    requestHash: null,
    labels: {},
    leaseOwner: null,
    leaseExpiresAt: null,
    result: null,
    lastError: null,
    createdAt: NOW,
    updatedAt: NOW,
    startedAt: null,
    finishedAt: null,
    progress: null,
    progressAt: null,
    ...changes,
  };
}

const heads = (tenantId: string, n: number): HeadJob[] =>
  Array.from({ length: n }, (_, i) => ({
    id: randomUUID(),
    tenantId,
    priority: 'standard',
    createdAt: new Date(NOW.getTime() - 1_000 + i),
  }));

describe(DispatchService.name, () => {
  let sut: DispatchService;
  let dispatch: StrictMock<DispatchRepository>;
  let jobs: StrictMock<JobRepository>;
  let workers: StrictMock<WorkerRepository>;
  let transitions: StrictMock<JobTransitions>;
  let plans: StrictMock<PlanDirectory>;
  let queues: StrictMock<QueueRepository>;
  let events: StrictMock<EventBus>;
  const ctx: RequestContext = serviceContext('worker');

  beforeEach(() => {
    const bed = createTestBed(DispatchService, [
      provide(Clock, new ManualClock(NOW)),
      provide(DISPATCH_SETTINGS, SETTINGS),
    ]);
    sut = bed.sut;
    const em = strictMock(EntityManager);
    const scope = bed.mocks.get(TenantScope);
    scope.runForDispatch.mockImplementation((work) => work(em));
    dispatch = bed.mocks.get(DispatchRepository);
    jobs = bed.mocks.get(JobRepository);
    workers = bed.mocks.get(WorkerRepository);
    transitions = bed.mocks.get(JobTransitions);
    queues = bed.mocks.get(QueueRepository);
    events = bed.mocks.get(EventBus);
    plans = bed.mocks.get(PlanDirectory);
    queues.byName.mockResolvedValue({
      name: QUEUE,
      description: null,
      workerPool: 'pool',
      maxTenantShare: 1,
      defaultTimeoutSeconds: 60,
      defaultMaxAttempts: 3,
      gpusPerJob: 0,
      createdAt: NOW,
    });
    workers.touch.mockResolvedValue({
      id: 'w-1',
      queue: QUEUE,
      concurrency: 10,
      draining: false,
      lastSeenAt: NOW,
    });
    workers.slotsOf.mockResolvedValue(10);
    bed.mocks
      .get(PlanDirectory)
      .plansOf.mockImplementation((ids) =>
        Promise.resolve(new Map([...ids].map((id) => [id, PLANS[id]!]))),
      );
    dispatch.heldByTenants.mockResolvedValue(new Map());
    dispatch.lockTenants.mockResolvedValue(undefined);
    dispatch.acceptsWork.mockResolvedValue(true);
    transitions.recorded.mockResolvedValue(undefined);
    bed.mocks.get(JobOutbox).kick.mockResolvedValue(undefined);
    bed.mocks.get(AuditRecorder).record.mockReturnValue(randomUUID());
    dispatch.lease.mockImplementation((_em, ids, workerId, expiresAt) =>
      Promise.resolve(
        ids.map((id) =>
          job(ENTERPRISE, {
            id,
            state: 'leased',
            attempts: 1,
            leaseOwner: workerId,
            leaseExpiresAt: expiresAt,
          }),
        ),
      ),
    );
  });

  describe('lease', () => {
    it('offers a tenant no more jobs than its plan concurrentJobs leaves room for', async () => {
      dispatch.held.mockResolvedValue({ byTenant: new Map(), byWorker: 0 });
      const free = heads(FREE, 5);
      dispatch.heads.mockResolvedValue(free);
      await sut.lease(ctx, { workerId: 'w-1', queue: QUEUE, max: 5 });
      expect(dispatch.lease.mock.calls[0]![1]).toEqual([free[0]!.id]);
    });

    it('counts what a tenant holds in other queues against its concurrentJobs', async () => {
      dispatch.held.mockResolvedValue({ byTenant: new Map(), byWorker: 0 });
      dispatch.heads.mockResolvedValue(heads(FREE, 3));
      dispatch.heldByTenants.mockResolvedValue(new Map([[FREE, 1]]));
      expect(await sut.lease(ctx, { workerId: 'w-1', queue: QUEUE, max: 3 })).toEqual({ jobs: [] });
      expect(dispatch.lease).not.toHaveBeenCalled();
    });

    it('shares the free slots between tenants by the fair-share core', async () => {
      dispatch.held.mockResolvedValue({ byTenant: new Map(), byWorker: 0 });
      const big = heads(ENTERPRISE, 10);
      dispatch.heads.mockResolvedValue([...big, ...heads(FREE, 10)]);
      await sut.lease(ctx, { workerId: 'w-1', queue: QUEUE, max: 10 });
      const leased = dispatch.lease.mock.calls[0]![1];
      // free may hold one job (its plan), enterprise takes the rest of a queue without a cap
      expect(leased).toHaveLength(10);
      expect(leased.filter((id) => big.some((j) => j.id === id))).toHaveLength(9);
    });

    it('holds concurrentJobs against leases another replica made since the decision, under the tenants lock', async () => {
      dispatch.held.mockResolvedValue({ byTenant: new Map(), byWorker: 0 });
      const big = heads(ENTERPRISE, 5);
      dispatch.heads.mockResolvedValue(big);
      // nothing held when the core decided; 99 of 100 once the lock was taken
      dispatch.heldByTenants
        .mockResolvedValueOnce(new Map())
        .mockResolvedValueOnce(new Map([[ENTERPRISE, 99]]));
      await sut.lease(ctx, { workerId: 'w-1', queue: QUEUE, max: 5 });
      expect(dispatch.lockTenants.mock.calls[0]![1]).toEqual([ENTERPRISE]);
      expect(dispatch.lease.mock.calls[0]![1]).toEqual([big[0]!.id]);
    });

    it('offers no GPU work to a tenant that used up its GPU-seconds, and others theirs', async () => {
      queues.byName.mockResolvedValue({
        name: QUEUE,
        description: null,
        workerPool: 'gpu-pool',
        maxTenantShare: 1,
        defaultTimeoutSeconds: 60,
        defaultMaxAttempts: 3,
        gpusPerJob: 1,
        createdAt: NOW,
      });
      plans.gpuUsageOf.mockImplementation((id) =>
        Promise.resolve(id === FREE ? { used: 600, limit: 600 } : { used: 5, limit: 3_600_000 }),
      );
      dispatch.held.mockResolvedValue({ byTenant: new Map(), byWorker: 0 });
      const big = heads(ENTERPRISE, 2);
      dispatch.heads.mockResolvedValue([...heads(FREE, 2), ...big]);
      await sut.lease(ctx, { workerId: 'w-1', queue: QUEUE, max: 4 });
      expect(dispatch.lease.mock.calls[0]![1]).toEqual(big.map((j) => j.id));
    });

    it('leases nothing to a worker with every slot in use, without reading the lines', async () => {
      dispatch.held.mockResolvedValue({ byTenant: new Map([[ENTERPRISE, 10]]), byWorker: 10 });
      expect(await sut.lease(ctx, { workerId: 'w-1', queue: QUEUE, max: 5 })).toEqual({ jobs: [] });
      expect(dispatch.heads).not.toHaveBeenCalled();
    });

    it('leases nothing to a draining worker', async () => {
      workers.touch.mockResolvedValue({
        id: 'w-1',
        queue: QUEUE,
        concurrency: 10,
        draining: true,
        lastSeenAt: NOW,
      });
      expect(await sut.lease(ctx, { workerId: 'w-1', queue: QUEUE, max: 5 })).toEqual({ jobs: [] });
      expect(dispatch.held).not.toHaveBeenCalled();
    });

    it('leases nothing to a worker drained while it was deciding, and touches no job', async () => {
      dispatch.held.mockResolvedValue({ byTenant: new Map(), byWorker: 0 });
      dispatch.heads.mockResolvedValue(heads(ENTERPRISE, 3));
      dispatch.acceptsWork.mockResolvedValue(false);
      expect(await sut.lease(ctx, { workerId: 'w-1', queue: QUEUE, max: 3 })).toEqual({ jobs: [] });
      expect(dispatch.acceptsWork).toHaveBeenCalledWith(expect.anything(), 'w-1');
      expect(dispatch.lease).not.toHaveBeenCalled();
    });

    it('refuses a worker that never registered, and anyone who is not a service', async () => {
      workers.touch.mockResolvedValue(null);
      expect((await failure(sut.lease(ctx, { workerId: 'w-9', queue: QUEUE, max: 1 }))).code).toBe(
        ErrorCode.NotFound,
      );
      const user: RequestContext = {
        tenantId: ENTERPRISE,
        actor: { type: 'user', id: 'u', roles: ['tenant-owner'] },
        requestId: randomUUID(),
      };
      expect((await failure(sut.lease(user, { workerId: 'w-1', queue: QUEUE, max: 1 }))).code).toBe(
        ErrorCode.Forbidden,
      );
    });
  });

  describe('release', () => {
    it('puts a handed-back job back in its queue at once, its attempt not counted', async () => {
      transitions.move.mockImplementation((_em, j, to, change) =>
        Promise.resolve({ ...j, ...change, state: to }),
      );
      events.publish.mockReturnValue(undefined);
      jobs.byId.mockResolvedValue(
        job(ENTERPRISE, { state: 'running', attempts: 2, leaseOwner: 'w-1', leaseExpiresAt: NOW }),
      );
      const reply = await sut.release(ctx, { workerId: 'w-1', jobId: randomUUID() });
      expect(reply).toEqual({ id: expect.any(String), state: 'queued', attempts: 1 });
      expect(transitions.move.mock.calls[0]![3]).toMatchObject({
        attempts: 1,
        notBefore: NOW,
        leaseOwner: null,
      });
      expect(events.publish).toHaveBeenCalledWith(expect.anything(), { queue: QUEUE });
    });
  });

  describe('fail', () => {
    it('requeues a retryable failure with back-off, and kills it after its last attempt', async () => {
      transitions.move.mockImplementation((_em, j, to, change) =>
        Promise.resolve({ ...j, ...change, state: to }),
      );
      jobs.byId.mockResolvedValueOnce(
        job(ENTERPRISE, { state: 'running', attempts: 2, leaseOwner: 'w-1', leaseExpiresAt: NOW }),
      );
      const retried = await sut.fail(ctx, {
        workerId: 'w-1',
        jobId: randomUUID(),
        error: 'busy',
        retryable: true,
      });
      expect(retried.state).toBe('queued');
      // attempt 2: ceiling 2 s, at jitter 0.5 three quarters of it
      expect(transitions.move.mock.calls[0]![3]).toMatchObject({
        notBefore: new Date(NOW.getTime() + 1_500),
        leaseOwner: null,
        lastError: 'busy',
      });

      jobs.byId.mockResolvedValueOnce(
        job(ENTERPRISE, { state: 'running', attempts: 3, leaseOwner: 'w-1', leaseExpiresAt: NOW }),
      );
      const dead = await sut.fail(ctx, {
        workerId: 'w-1',
        jobId: randomUUID(),
        error: 'busy',
        retryable: true,
      });
      expect(dead.state).toBe('dead');
    });

    it('refuses a report from a worker that does not hold the job', async () => {
      jobs.byId.mockResolvedValue(
        job(ENTERPRISE, { state: 'running', attempts: 1, leaseOwner: 'w-2', leaseExpiresAt: NOW }),
      );
      const error = await failure(
        sut.fail(ctx, { workerId: 'w-1', jobId: randomUUID(), error: 'x', retryable: true }),
      );
      expect(error.code).toBe(ErrorCode.InvalidState);
      expect(transitions.move).not.toHaveBeenCalled();
    });
  });
});
