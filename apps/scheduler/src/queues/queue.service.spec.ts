import { randomUUID } from 'node:crypto';
import { CreateQueueRequest, ErrorCode, PLATFORM_ADMIN_ROLE } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { AuditRecorder } from '@lattice/messaging';
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
import { QueueRepository, type QueueRow } from './queue.repository';
import { QueueService } from './queue.service';

const NOW = new Date('2026-03-01T12:00:00Z');
const TENANT = '30000000-0000-4000-8000-000000000001';
const user = (tenantId: string | null, roles: string[]): RequestContext => ({
  tenantId,
  actor: { type: 'user', id: 'u-1', roles },
  requestId: randomUUID(),
});

const QUEUE: QueueRow = {
  name: 'embedding',
  description: null,
  workerPool: 'embedders',
  maxTenantShare: 0.2,
  defaultTimeoutSeconds: 600,
  defaultMaxAttempts: 3,
  gpusPerJob: 0,
  createdAt: NOW,
};

describe(QueueService.name, () => {
  let sut: QueueService;
  let scope: StrictMock<TenantScope>;
  let queues: StrictMock<QueueRepository>;

  beforeEach(() => {
    const bed = createTestBed(QueueService, [provide(Clock, new ManualClock(NOW))]);
    sut = bed.sut;
    const em = strictMock(EntityManager);
    scope = bed.mocks.get(TenantScope);
    scope.run.mockImplementation((_tenant, work) => work(em));
    scope.runAsPlatform.mockImplementation((work) => work(em));
    scope.runForDispatch.mockImplementation((work) => work(em));
    queues = bed.mocks.get(QueueRepository);
    bed.mocks.get(AuditRecorder).record.mockReturnValue(randomUUID());
  });

  it('lets platform operators declare a queue, and refuses tenants', async () => {
    queues.insert.mockResolvedValue(QUEUE);
    const request = CreateQueueRequest.parse({ name: 'embedding', workerPool: 'embedders' });
    const view = await sut.create(user(null, ['platform-operator']), request);
    expect(view).toMatchObject({ name: 'embedding', maxTenantShare: 0.2, defaultMaxAttempts: 3 });
    const refused = await failure(sut.create(user(TENANT, ['tenant-owner']), request));
    expect(refused.code).toBe(ErrorCode.Forbidden);
    expect(queues.insert).toHaveBeenCalledTimes(1);
  });

  it('refuses a name that is taken', async () => {
    queues.insert.mockResolvedValue(null);
    const request = CreateQueueRequest.parse({ name: 'embedding', workerPool: 'embedders' });
    expect((await failure(sut.create(user(null, [PLATFORM_ADMIN_ROLE]), request))).code).toBe(
      ErrorCode.Conflict,
    );
  });

  it('counts a tenant own jobs in its tenant scope, and every tenant for operators', async () => {
    queues.byName.mockResolvedValue(QUEUE);
    queues.figures.mockResolvedValue([
      {
        queue: 'embedding',
        queued: 4,
        running: 2,
        oldestQueuedAt: new Date(NOW.getTime() - 90_000),
      },
    ]);
    const mine = await sut.get(user(TENANT, ['viewer']), 'embedding');
    expect(mine).toMatchObject({
      figuresOf: 'tenant',
      figures: { queued: 4, running: 2, oldestWaitSeconds: 90 },
    });
    expect(scope.run).toHaveBeenCalledWith(TENANT, expect.any(Function));
    expect(scope.runForDispatch).not.toHaveBeenCalled();

    const all = await sut.get(user(null, ['platform-operator']), 'embedding');
    expect(all.figuresOf).toBe('every-tenant');
    expect(scope.runForDispatch).toHaveBeenCalledTimes(1);
  });

  it('answers the depth to services only, from every tenant', async () => {
    queues.figures.mockResolvedValue([]);
    expect(await sut.depth(serviceContext('operator'), 'idle')).toEqual({
      queue: 'idle',
      queued: 0,
      inFlight: 0,
      observedAt: NOW.toISOString(),
    });
    expect((await failure(sut.depth(user(null, [PLATFORM_ADMIN_ROLE]), 'idle'))).code).toBe(
      ErrorCode.Forbidden,
    );
  });

  it('hides queue figures from a role without queue access', async () => {
    expect((await failure(sut.list(user(TENANT, ['billing'])))).code).toBe(ErrorCode.Forbidden);
  });
});
