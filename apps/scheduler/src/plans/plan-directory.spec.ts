import { randomUUID } from 'node:crypto';
import { DomainError, ErrorCode, type TenantView } from '@lattice/contracts';
import { RpcClient } from '@lattice/messaging';
import { Clock } from '@lattice/service-runtime';
import { ManualClock, createTestBed, provide, type StrictMock } from '@lattice/testing';
import { PLAN_CACHE_MS, PlanDirectory, fairShareTier } from './plan-directory';

const NOW = new Date('2026-03-01T12:00:00Z');

function tenant(changes: Partial<TenantView> = {}): TenantView {
  return {
    id: randomUUID(),
    slug: 'acme',
    name: 'Acme',
    plan: 'starter',
    status: 'active',
    settings: {},
    quotaOverrides: {},
    quotas: {
      requestsPerMinute: 600,
      tokensPerMonth: 1,
      storageBytes: 1,
      gpuSecondsPerMonth: 1,
      users: 1,
      concurrentJobs: 2,
      fairShareWeight: 15,
      auditRetentionDays: 30,
    },
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    suspendedAt: null,
    deletedAt: null,
    purgeAfter: null,
    version: 1,
    ...changes,
  };
}

describe(PlanDirectory.name, () => {
  let sut: PlanDirectory;
  let rpc: StrictMock<RpcClient>;
  const clock = new ManualClock(NOW);

  beforeEach(() => {
    const bed = createTestBed(PlanDirectory, [
      provide(Clock, clock),
      provide(PLAN_CACHE_MS, 30_000),
    ]);
    sut = bed.sut;
    rpc = bed.mocks.get(RpcClient);
  });

  it('asks the tenants service once per cache period', async () => {
    rpc.request.mockResolvedValue(tenant());
    const id = randomUUID();
    expect(await sut.planOf(id)).toEqual({
      plan: 'starter',
      concurrentJobs: 2,
      fairShareWeight: 15,
    });
    await sut.planOf(id);
    expect(rpc.request).toHaveBeenCalledTimes(1);
    clock.advance(30_000);
    await sut.planOf(id);
    expect(rpc.request).toHaveBeenCalledTimes(2);
  });

  it('lets a suspended or vanished tenant hold no job', async () => {
    rpc.request.mockResolvedValueOnce(tenant({ status: 'suspended' }));
    expect((await sut.planOf(randomUUID())).concurrentJobs).toBe(0);
    rpc.request.mockRejectedValueOnce(new DomainError(ErrorCode.NotFound, 'no such tenant'));
    expect((await sut.planOf(randomUUID())).concurrentJobs).toBe(0);
  });

  it('keeps using the last plan known while the tenants service cannot answer', async () => {
    const id = randomUUID();
    rpc.request.mockResolvedValueOnce(tenant({ plan: 'enterprise' }));
    await sut.planOf(id);
    clock.advance(60_000);
    rpc.request.mockRejectedValueOnce(new DomainError(ErrorCode.Unavailable, 'no responders'));
    expect((await sut.planOf(id)).plan).toBe('enterprise');
    rpc.request.mockRejectedValueOnce(new DomainError(ErrorCode.Unavailable, 'no responders'));
    await expect(sut.planOf(randomUUID())).rejects.toMatchObject({ code: ErrorCode.Unavailable });
  });

  it('puts fixed plans in tiers of their own and custom plans together, weighted inside', () => {
    expect(fairShareTier({ plan: 'free', concurrentJobs: 1, fairShareWeight: 5 })).toEqual({
      tier: 'free',
      tierWeight: 5,
      weight: 1,
    });
    expect(fairShareTier({ plan: 'custom', concurrentJobs: 1, fairShareWeight: 80 })).toEqual({
      tier: 'custom',
      tierWeight: 50,
      weight: 80,
    });
  });
});
