import { randomUUID } from 'node:crypto';
import { ErrorCode, PLATFORM_ADMIN_ROLE, type TenantStatus } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
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
import { TenantOutbox } from '../events/tenant-outbox';
import { TenantEntity } from './tenant.entity';
import { TenantRepository } from './tenant.repository';
import { TENANT_SETTINGS, TenantService } from './tenant.service';

const NOW = new Date('2026-03-01T12:00:00Z');
const RETENTION_DAYS = 30;

const platformAdmin = (): RequestContext => ({
  tenantId: null,
  actor: { type: 'user', id: randomUUID(), roles: [PLATFORM_ADMIN_ROLE] },
  requestId: randomUUID(),
});
const member = (tenantId: string, role: string): RequestContext => ({
  tenantId,
  actor: { type: 'user', id: randomUUID(), roles: [role] },
  requestId: randomUUID(),
});

function tenant(status: TenantStatus, changes: Partial<TenantEntity> = {}): TenantEntity {
  const created = new Date('2026-01-01T00:00:00Z');
  return Object.assign(new TenantEntity(), {
    id: randomUUID(),
    slug: 'acme',
    name: 'Acme',
    plan: 'professional',
    status,
    settings: {},
    quotaOverrides: {},
    version: 3,
    createdAt: created,
    updatedAt: created,
    suspendedAt: status === 'suspended' ? created : null,
    deletedAt: status === 'deleted' ? created : null,
    purgeAfter: status === 'deleted' ? new Date('2026-02-01T00:00:00Z') : null,
    ...changes,
  });
}

describe(TenantService.name, () => {
  let sut: TenantService;
  let repository: StrictMock<TenantRepository>;
  let outbox: StrictMock<TenantOutbox>;
  let em: StrictMock<EntityManager>;

  /** The tenant row the service finds (locked) inside its transaction. */
  const stored = (row: TenantEntity) => em.findOne.mockResolvedValue(row as never);

  beforeEach(() => {
    const bed = createTestBed(TenantService, [
      provide(Clock, new ManualClock(NOW)),
      provide(TENANT_SETTINGS, { retentionDays: RETENTION_DAYS }),
    ]);
    sut = bed.sut;
    em = strictMock(EntityManager);
    const scope = bed.mocks.get(TenantScope);
    scope.run.mockImplementation((_id, work) => work(em));
    scope.runAsPlatform.mockImplementation((work) => work(em));
    repository = bed.mocks.get(TenantRepository);
    repository.save.mockImplementation(async (_em, row) => row);
    outbox = bed.mocks.get(TenantOutbox);
    outbox.record.mockResolvedValue();
    outbox.kick.mockResolvedValue();
  });

  describe('create', () => {
    it('refuses a caller who is not a platform administrator', async () => {
      const error = await failure(
        sut.create(member(randomUUID(), 'tenant-owner'), {
          slug: 'acme',
          name: 'Acme',
          plan: 'starter',
          settings: {},
        }),
      );
      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(repository.insert).not.toHaveBeenCalled();
    });

    it('creates an active tenant and records its creation in the same transaction', async () => {
      repository.insert.mockImplementation(async (_em, row) => row);

      const view = await sut.create(platformAdmin(), {
        slug: 'acme',
        name: 'Acme',
        plan: 'starter',
        settings: {},
      });

      expect(view).toMatchObject({ slug: 'acme', status: 'active', version: 1 });
      expect(view.createdAt).toBe(NOW.toISOString());
      expect(outbox.record).toHaveBeenCalledWith(em, 'created', expect.anything(), NOW);
      expect(outbox.kick).toHaveBeenCalled();
    });
  });

  describe('lifecycle', () => {
    it('suspends an active tenant: new status, a version more, one event', async () => {
      const row = tenant('active');
      stored(row);

      const view = await sut.suspend(platformAdmin(), row.id);

      expect(view).toMatchObject({ status: 'suspended', version: 4 });
      expect(view.suspendedAt).toBe(NOW.toISOString());
      expect(outbox.record).toHaveBeenCalledWith(em, 'suspended', expect.anything(), NOW);
    });

    it('suspends an already suspended tenant as a no-op, so a retry changes nothing', async () => {
      const row = tenant('suspended');
      stored(row);

      const view = await sut.suspend(platformAdmin(), row.id);

      expect(view).toMatchObject({ status: 'suspended', version: 3 });
      expect(repository.save).not.toHaveBeenCalled();
      expect(outbox.record).not.toHaveBeenCalled();
      expect(outbox.kick).not.toHaveBeenCalled();
    });

    it('refuses to suspend a deleted tenant', async () => {
      const row = tenant('deleted');
      stored(row);

      const error = await failure(sut.suspend(platformAdmin(), row.id));

      expect(error.code).toBe(ErrorCode.InvalidState);
      expect(repository.save).not.toHaveBeenCalled();
    });

    it('keeps a deleted tenant for the retention period before it may be purged', async () => {
      const row = tenant('active');
      stored(row);

      const view = await sut.delete(platformAdmin(), row.id);

      expect(view.status).toBe('deleted');
      expect(new Date(view.purgeAfter!).getTime() - NOW.getTime()).toBe(
        RETENTION_DAYS * 24 * 3600 * 1000,
      );
    });

    it('reactivates a deleted tenant and forgets when it was to be purged', async () => {
      const row = tenant('deleted');
      stored(row);

      const view = await sut.reactivate(platformAdmin(), row.id);

      expect(view).toMatchObject({ status: 'active', deletedAt: null, purgeAfter: null });
      expect(outbox.record).toHaveBeenCalledWith(em, 'reactivated', expect.anything(), NOW);
    });

    it("lets a tenant's owner close it but not suspend it", async () => {
      const row = tenant('active');
      stored(row);
      const owner = member(row.id, 'tenant-owner');

      expect((await failure(sut.suspend(owner, row.id))).code).toBe(ErrorCode.Forbidden);
      expect((await sut.delete(owner, row.id)).status).toBe('deleted');
    });

    it('answers a member of another tenant as if the tenant did not exist', async () => {
      const row = tenant('active');

      const error = await failure(sut.delete(member(randomUUID(), 'tenant-owner'), row.id));

      expect(error.code).toBe(ErrorCode.NotFound);
      expect(em.findOne).not.toHaveBeenCalled();
    });
  });

  describe('update', () => {
    it('refuses quota overrides outside the custom plan', async () => {
      const row = tenant('active');
      stored(row);

      const error = await failure(
        sut.update(platformAdmin(), row.id, { quotaOverrides: { users: 5 } }),
      );

      expect(error.code).toBe(ErrorCode.ValidationFailed);
      expect(repository.save).not.toHaveBeenCalled();
    });

    it('drops the overrides of a tenant that leaves the custom plan', async () => {
      const row = tenant('active', { plan: 'custom', quotaOverrides: { users: 5 } });
      stored(row);

      const view = await sut.update(platformAdmin(), row.id, { plan: 'enterprise' });

      expect(view).toMatchObject({ plan: 'enterprise', quotaOverrides: {}, version: 4 });
    });

    it("refuses a tenant admin's change of plan: plans are the platform's to set", async () => {
      const row = tenant('active');

      const error = await failure(
        sut.update(member(row.id, 'tenant-admin'), row.id, { plan: 'enterprise' }),
      );

      expect(error.code).toBe(ErrorCode.Forbidden);
    });

    it('refuses to change a deleted tenant', async () => {
      const row = tenant('deleted');
      stored(row);

      const error = await failure(sut.update(platformAdmin(), row.id, { name: 'Renamed' }));

      expect(error.code).toBe(ErrorCode.InvalidState);
    });
  });
});
