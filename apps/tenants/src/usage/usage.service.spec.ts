import { randomUUID } from 'node:crypto';
import { ErrorCode, METERED, PLATFORM_ADMIN_ROLE, type TenantStatus } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { RejectMessage } from '@lattice/messaging';
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
import { TenantEntity } from '../tenant/tenant.entity';
import { TenantRepository } from '../tenant/tenant.repository';
import { UsageRepository } from './usage.repository';
import { UsageService } from './usage.service';

const NOW = new Date('2026-03-15T08:00:00Z');
const TOKENS = 1_000;

function customTenant(status: TenantStatus = 'active'): TenantEntity {
  return Object.assign(new TenantEntity(), {
    id: randomUUID(),
    plan: 'custom',
    status,
    quotaOverrides: { tokensPerMonth: TOKENS },
  });
}

describe(UsageService.name, () => {
  let sut: UsageService;
  let tenants: StrictMock<TenantRepository>;
  let usage: StrictMock<UsageRepository>;
  let em: StrictMock<EntityManager>;

  /** The tenant on file, with this many tokens used in the current month. */
  const onFile = (tenant: TenantEntity, usedTokens = 0) => {
    tenants.findById.mockResolvedValue(tenant);
    usage.readings.mockImplementation(async (_em, periods) =>
      periods.map((p) => ({ ...p, used: p.resource === 'tokens' ? usedTokens : 0 })),
    );
  };

  beforeEach(() => {
    const bed = createTestBed(UsageService, [provide(Clock, new ManualClock(NOW))]);
    sut = bed.sut;
    em = strictMock(EntityManager);
    bed.mocks.get(TenantScope).run.mockImplementation((_id, work) => work(em));
    tenants = bed.mocks.get(TenantRepository);
    usage = bed.mocks.get(UsageRepository);
  });

  describe('check', () => {
    const asService = serviceContext('gateway');

    it('allows an amount that fits in what is left of the month', async () => {
      const tenant = customTenant();
      onFile(tenant, TOKENS - 100);

      const reply = await sut.check(asService, {
        tenantId: tenant.id,
        resource: 'tokens',
        amount: 100,
      });

      expect(reply).toMatchObject({ allowed: true, used: TOKENS - 100, remaining: 100 });
      expect(usage.readings).toHaveBeenCalledWith(em, [{ resource: 'tokens', period: '2026-03' }]);
    });

    it('refuses an amount that would go over the quota', async () => {
      const tenant = customTenant();
      onFile(tenant, TOKENS - 100);

      const reply = await sut.check(asService, {
        tenantId: tenant.id,
        resource: 'tokens',
        amount: 101,
      });

      expect(reply).toMatchObject({ allowed: false, remaining: 100 });
    });

    it('refuses everything to a suspended tenant, however much quota is left', async () => {
      const tenant = customTenant('suspended');
      onFile(tenant, 0);

      const reply = await sut.check(asService, {
        tenantId: tenant.id,
        resource: 'tokens',
        amount: 1,
      });

      expect(reply.allowed).toBe(false);
    });

    it('answers a user of another tenant as if the tenant did not exist, reading nothing', async () => {
      const other: RequestContext = {
        tenantId: randomUUID(),
        actor: { type: 'user', id: randomUUID(), roles: ['tenant-owner'] },
        requestId: randomUUID(),
      };

      const error = await failure(
        sut.check(other, { tenantId: randomUUID(), resource: 'tokens', amount: 1 }),
      );

      expect(error.code).toBe(ErrorCode.NotFound);
      expect(tenants.findById).not.toHaveBeenCalled();
    });
  });

  describe('record', () => {
    it('counts a report in the month it occurred in, not the month it arrived in', async () => {
      const tenant = customTenant();
      tenants.findById.mockResolvedValue(tenant);
      usage.record.mockResolvedValue(true);
      const report = {
        messageId: randomUUID(),
        tenantId: tenant.id,
        resource: 'tokens' as const,
        amount: 5,
        occurredAt: '2026-02-28T23:59:59Z',
        source: 'inference',
      };

      await expect(sut.record(report)).resolves.toBe(true);
      expect(usage.record).toHaveBeenCalledWith(em, report, '2026-02');
    });

    it('rejects a report for a tenant it does not know, so it is not redelivered', async () => {
      tenants.findById.mockResolvedValue(null);

      await expect(
        sut.record({
          messageId: randomUUID(),
          tenantId: randomUUID(),
          resource: 'tokens',
          amount: 5,
          occurredAt: NOW.toISOString(),
          source: 'inference',
        }),
      ).rejects.toBeInstanceOf(RejectMessage);
      expect(usage.record).not.toHaveBeenCalled();
    });
  });

  describe('current', () => {
    it('reports every metered resource against its quota', async () => {
      const tenant = customTenant();
      onFile(tenant, 250);
      const admin: RequestContext = {
        tenantId: null,
        actor: { type: 'user', id: randomUUID(), roles: [PLATFORM_ADMIN_ROLE] },
        requestId: randomUUID(),
      };

      const reply = await sut.current(admin, tenant.id);

      expect(reply.period).toBe('2026-03');
      expect(reply.usage.find((u) => u.resource === 'tokens')).toEqual({
        resource: 'tokens',
        period: '2026-03',
        used: 250,
        limit: TOKENS,
        remaining: TOKENS - 250,
      });
      expect(reply.usage.map((u) => u.resource).sort()).toEqual([...METERED].sort());
    });
  });
});
