import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { AuditRecorder } from '@lattice/messaging';
import {
  createTestBed,
  failure,
  provide,
  scopedTransactions,
  strictMock,
  type RecordingScope,
  type StrictMock,
} from '@lattice/testing';
import type { EntityManager } from 'typeorm';
import { roleCatalog, userContext } from '../../test/auth-unit.fixtures';
import { RoleBindingRepository } from '../roles/role-binding.repository';
import { RoleCatalog } from '../roles/role-catalog';
import { ServiceAccountRepository, type ServiceAccountRow } from './service-account.repository';
import { ServiceAccountsService } from './service-accounts.service';

describe(ServiceAccountsService.name, () => {
  const tenantId = randomUUID();
  let sut: ServiceAccountsService;
  let em: EntityManager;
  let scope: RecordingScope;
  let accounts: StrictMock<ServiceAccountRepository>;
  let bindings: StrictMock<RoleBindingRepository>;
  let audit: StrictMock<AuditRecorder>;
  /** The tenant's service accounts, and the roles each holds, as the tables keep them. */
  let rows: ServiceAccountRow[];
  let held: Map<string, string[]>;

  const caller = (role: string) => userContext(tenantId, [role]);

  beforeEach(() => {
    rows = [];
    held = new Map();
    ({ em, scope } = scopedTransactions());
    bindings = strictMock(RoleBindingRepository);
    bindings.rolesOf.mockImplementation(async (_em, id) => held.get(id) ?? []);
    bindings.bind.mockImplementation(async (_em, b) => {
      held.set(b.principalId, [...(held.get(b.principalId) ?? []), b.role]);
    });
    const bed = createTestBed(ServiceAccountsService, [
      provide(TenantScope, scope),
      provide(RoleBindingRepository, bindings),
      provide(RoleCatalog, roleCatalog(bindings, [])),
    ]);
    sut = bed.sut;
    accounts = bed.mocks.get(ServiceAccountRepository);
    accounts.insert.mockImplementation(async (_em, a) => {
      if (rows.some((r) => r.name === a.name)) return undefined;
      const row = { id: randomUUID(), name: a.name, created_at: new Date('2026-02-01T00:00:00Z') };
      rows.push(row);
      return row;
    });
    accounts.list.mockImplementation(async () => rows);
    audit = bed.mocks.get(AuditRecorder);
    audit.record.mockReturnValue(randomUUID());
  });

  describe('create', () => {
    it('makes a service account holding the roles given, once each, and audits it', async () => {
      const admin = caller('tenant-admin');

      const created = await sut.create(admin, {
        name: 'ingest',
        roles: ['service-account', 'analyst', 'service-account'],
      });

      expect(created).toEqual({
        id: expect.any(String),
        tenantId,
        name: 'ingest',
        roles: ['analyst', 'service-account'],
        createdAt: '2026-02-01T00:00:00.000Z',
      });
      expect(held.get(created.id)).toEqual(['analyst', 'service-account']);
      expect(bindings.bind).toHaveBeenCalledWith(em, {
        tenantId,
        principalId: created.id,
        role: 'analyst',
        grantedBy: admin.actor.id,
      });
      expect(audit.record).toHaveBeenCalledWith(
        expect.objectContaining({
          tenantId,
          action: 'service-account.create',
          outcome: 'success',
          resource: { type: 'ServiceAccount', id: created.id },
          metadata: { roles: ['analyst', 'service-account'] },
        }),
      );
    });

    it('refuses roles that reach beyond what the caller holds', async () => {
      const error = await failure(
        sut.create(caller('tenant-admin'), { name: 'root', roles: ['tenant-owner'] }),
      );

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(rows).toEqual([]);
      expect(audit.record).not.toHaveBeenCalled();
    });

    it('refuses a role the tenant does not have', async () => {
      const error = await failure(
        sut.create(caller('tenant-admin'), { name: 'ingest', roles: ['no-such-role'] }),
      );

      expect(error.code).toBe(ErrorCode.ValidationFailed);
      expect(rows).toEqual([]);
    });

    it('answers Conflict for a name the tenant has, and audits nothing', async () => {
      await sut.create(caller('tenant-admin'), { name: 'ingest', roles: [] });
      audit.record.mockClear();

      const error = await failure(
        sut.create(caller('tenant-admin'), { name: 'ingest', roles: [] }),
      );

      expect(error.code).toBe(ErrorCode.Conflict);
      expect(audit.record).not.toHaveBeenCalled();
    });

    it('refuses a caller who may not make service accounts', async () => {
      const error = await failure(sut.create(caller('developer'), { name: 'ingest', roles: [] }));

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(scope.tenants).toEqual([]);
    });
  });

  describe('list', () => {
    it('lists the service accounts of the tenant with their roles', async () => {
      const admin = caller('tenant-admin');
      const a = await sut.create(admin, { name: 'ingest', roles: ['service-account'] });
      const b = await sut.create(admin, { name: 'report', roles: ['analyst'] });

      await expect(sut.list(caller('auditor'))).resolves.toEqual([
        expect.objectContaining({ id: a.id, tenantId, roles: ['service-account'] }),
        expect.objectContaining({ id: b.id, tenantId, roles: ['analyst'] }),
      ]);
    });

    it('refuses a caller who may not read service accounts', async () => {
      expect((await failure(sut.list(caller('viewer')))).code).toBe(ErrorCode.Forbidden);
    });
  });
});
