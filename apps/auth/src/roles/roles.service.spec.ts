import { randomUUID } from 'node:crypto';
import { ErrorCode, PLATFORM_ADMIN_ROLE } from '@lattice/contracts';
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
import { userContext } from '../../test/auth-unit.fixtures';
import { RoleBindingRepository } from './role-binding.repository';
import { RoleCatalog } from './role-catalog';
import { RoleRepository, type CustomRoleRow } from './role.repository';
import { RolesService } from './roles.service';

describe(RolesService.name, () => {
  const tenantId = randomUUID();
  let sut: RolesService;
  let em: EntityManager;
  let scope: RecordingScope;
  let customRoles: StrictMock<RoleRepository>;
  let bindings: StrictMock<RoleBindingRepository>;
  let audit: StrictMock<AuditRecorder>;
  /** The tenant's custom roles, and the roles each principal holds, as the tables keep them. */
  let custom: CustomRoleRow[];
  let held: Map<string, string[]>;

  const caller = (role: string, tenant: string | null = tenantId) => userContext(tenant, [role]);
  const principal = (...roles: string[]) => {
    const id = randomUUID();
    held.set(id, roles);
    return id;
  };

  beforeEach(() => {
    custom = [{ name: 'job-runner', description: 'Runs jobs', permissions: ['manage:Job:tenant'] }];
    held = new Map();
    ({ em, scope } = scopedTransactions());
    customRoles = strictMock(RoleRepository);
    customRoles.list.mockImplementation(async () => custom);
    bindings = strictMock(RoleBindingRepository);
    bindings.principalExists.mockImplementation(async (_em, id) => held.has(id));
    bindings.rolesOf.mockImplementation(async (_em, id) => [...(held.get(id) ?? [])].sort());
    bindings.bind.mockImplementation(async (_em, b) => {
      held.set(b.principalId, [...new Set([...held.get(b.principalId)!, b.role])]);
    });
    bindings.unbind.mockImplementation(async (_em, id, role) => {
      held.set(
        id,
        held.get(id)!.filter((r) => r !== role),
      );
    });
    const bed = createTestBed(RolesService, [
      provide(TenantScope, scope),
      provide(RoleRepository, customRoles),
      provide(RoleBindingRepository, bindings),
      provide(RoleCatalog, new RoleCatalog(customRoles, bindings)),
    ]);
    sut = bed.sut;
    audit = bed.mocks.get(AuditRecorder);
    audit.record.mockReturnValue(randomUUID());
  });

  describe('list', () => {
    it("lists the tenant's system roles and its custom roles to a caller who may read them", async () => {
      const roles = await sut.list(caller('auditor'));

      expect(roles.map((r) => r.name)).toEqual(expect.arrayContaining(['viewer', 'job-runner']));
      expect(roles.find((r) => r.name === 'job-runner')).toMatchObject({ system: false });
      expect(scope.tenants).toEqual([tenantId]);
    });

    it('refuses a tenant user naming another tenant', async () => {
      const error = await failure(sut.list(caller('tenant-owner'), randomUUID()));

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(scope.tenants).toEqual([]);
    });

    it('lets a platform administrator list the roles of the tenant it names', async () => {
      const other = randomUUID();

      await sut.list(caller(PLATFORM_ADMIN_ROLE, null), other);

      expect(scope.tenants).toEqual([other]);
    });
  });

  describe('create', () => {
    const request = (name: string, permissions: string[]) => ({
      name,
      description: 'Reads things',
      permissions: permissions as never,
    });

    it('stores a custom role with its permissions once each, sorted, and audits it', async () => {
      customRoles.insert.mockResolvedValue(true);

      const role = await sut.create(
        caller('tenant-admin'),
        request('reader', ['read:Job:tenant', 'read:Document:tenant', 'read:Job:tenant']),
      );

      const permissions = ['read:Document:tenant', 'read:Job:tenant'];
      expect(role).toEqual({
        name: 'reader',
        description: 'Reads things',
        system: false,
        permissions,
      });
      expect(customRoles.insert).toHaveBeenCalledWith(em, {
        tenantId,
        name: 'reader',
        description: 'Reads things',
        permissions,
      });
      expect(audit.record).toHaveBeenCalledWith(
        expect.objectContaining({
          tenantId,
          action: 'role.create',
          outcome: 'success',
          resource: { type: 'Role', id: 'reader' },
          metadata: { permissions },
        }),
      );
    });

    it('refuses the name of a system role', async () => {
      const error = await failure(
        sut.create(caller('tenant-owner'), request('viewer', ['read:Job:tenant'])),
      );

      expect(error.code).toBe(ErrorCode.Conflict);
      expect(customRoles.insert).not.toHaveBeenCalled();
    });

    it('refuses platform-scope permissions in a tenant role', async () => {
      const error = await failure(
        sut.create(caller('tenant-owner'), request('spy', ['read:Job:platform'])),
      );

      expect(error.code).toBe(ErrorCode.ValidationFailed);
      expect(customRoles.insert).not.toHaveBeenCalled();
    });

    it('refuses permissions beyond what the caller holds, naming them', async () => {
      const error = await failure(
        sut.create(
          caller('tenant-admin'),
          request('closer', ['read:Tenant:tenant', 'delete:Tenant:tenant']),
        ),
      );

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(error.details).toEqual({ permissions: ['delete:Tenant:tenant'] });
      expect(customRoles.insert).not.toHaveBeenCalled();
      expect(audit.record).not.toHaveBeenCalled();
    });

    it('refuses a caller who may not create roles', async () => {
      const error = await failure(
        sut.create(caller('auditor'), request('reader', ['read:Job:tenant'])),
      );

      expect(error.code).toBe(ErrorCode.Forbidden);
    });

    it('answers Conflict when the tenant has a role of that name, and audits nothing', async () => {
      customRoles.insert.mockResolvedValue(false);

      const error = await failure(
        sut.create(caller('tenant-admin'), request('job-runner', ['manage:Job:tenant'])),
      );

      expect(error.code).toBe(ErrorCode.Conflict);
      expect(audit.record).not.toHaveBeenCalled();
    });
  });

  describe('delete', () => {
    it('removes a custom role nobody holds, answers the roles left and audits it', async () => {
      bindings.holders.mockResolvedValue(0);
      customRoles.remove.mockImplementation(async (_em, name) => {
        const before = custom.length;
        custom = custom.filter((r) => r.name !== name);
        return custom.length < before;
      });

      const remaining = await sut.delete(caller('tenant-admin'), 'job-runner');

      expect(remaining.map((r) => r.name)).not.toContain('job-runner');
      expect(remaining.map((r) => r.name)).toContain('viewer');
      expect(audit.record).toHaveBeenCalledWith(
        expect.objectContaining({
          action: 'role.delete',
          resource: { type: 'Role', id: 'job-runner' },
        }),
      );
    });

    it('refuses to remove a role someone holds', async () => {
      bindings.holders.mockResolvedValue(2);

      const error = await failure(sut.delete(caller('tenant-admin'), 'job-runner'));

      expect(error.code).toBe(ErrorCode.InvalidState);
      expect(error.message).toContain('2');
      expect(customRoles.remove).not.toHaveBeenCalled();
      expect(audit.record).not.toHaveBeenCalled();
    });

    it('says NotFound for a role that is not a custom role of the tenant', async () => {
      bindings.holders.mockResolvedValue(0);
      customRoles.remove.mockResolvedValue(false);

      const error = await failure(sut.delete(caller('tenant-admin'), 'no-such-role'));

      expect(error.code).toBe(ErrorCode.NotFound);
      expect(audit.record).not.toHaveBeenCalled();
    });
  });

  describe('grant', () => {
    it('binds the role, answers what the principal now holds and audits it', async () => {
      const admin = caller('tenant-admin');
      const id = principal('viewer');

      const answer = await sut.grant(admin, { principalId: id, role: 'developer' });

      expect(answer).toEqual({ principalId: id, roles: ['developer', 'viewer'] });
      expect(bindings.bind).toHaveBeenCalledWith(em, {
        tenantId,
        principalId: id,
        role: 'developer',
        grantedBy: admin.actor.id,
      });
      expect(audit.record).toHaveBeenCalledWith(
        expect.objectContaining({
          tenantId,
          action: 'role.grant',
          outcome: 'success',
          resource: { type: 'Role', id: 'developer' },
          metadata: { principalId: id },
        }),
      );
    });

    it('refuses to grant a role that reaches beyond what the caller holds', async () => {
      const id = principal('viewer');

      const error = await failure(
        sut.grant(caller('tenant-admin'), { principalId: id, role: 'tenant-owner' }),
      );

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(held.get(id)).toEqual(['viewer']);
      expect(audit.record).not.toHaveBeenCalled();
    });

    it('refuses a platform role in a tenant', async () => {
      const id = principal('viewer');

      const error = await failure(
        sut.grant(caller(PLATFORM_ADMIN_ROLE, null), {
          principalId: id,
          role: PLATFORM_ADMIN_ROLE,
          tenantId,
        }),
      );

      expect(error.code).toBe(ErrorCode.ValidationFailed);
      expect(held.get(id)).toEqual(['viewer']);
    });

    it('says NotFound for a principal the tenant does not have', async () => {
      const error = await failure(
        sut.grant(caller('tenant-admin'), { principalId: randomUUID(), role: 'viewer' }),
      );

      expect(error.code).toBe(ErrorCode.NotFound);
      expect(bindings.bind).not.toHaveBeenCalled();
    });

    it('refuses a caller who may not change role bindings', async () => {
      const id = principal('viewer');

      const error = await failure(
        sut.grant(caller('developer'), { principalId: id, role: 'viewer' }),
      );

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(bindings.bind).not.toHaveBeenCalled();
    });

    it('refuses a tenant administrator naming another tenant', async () => {
      const id = principal('viewer');

      const error = await failure(
        sut.grant(caller('tenant-admin'), {
          principalId: id,
          role: 'viewer',
          tenantId: randomUUID(),
        }),
      );

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(scope.tenants).toEqual([]);
    });
  });

  describe('revoke', () => {
    it('unbinds the role, answers what the principal still holds and audits it', async () => {
      const id = principal('developer', 'viewer');

      const answer = await sut.revoke(caller('tenant-admin'), {
        principalId: id,
        role: 'developer',
      });

      expect(answer).toEqual({ principalId: id, roles: ['viewer'] });
      expect(audit.record).toHaveBeenCalledWith(
        expect.objectContaining({
          action: 'role.revoke',
          resource: { type: 'Role', id: 'developer' },
          metadata: { principalId: id },
        }),
      );
    });

    it('refuses to take away a role that reaches beyond what the caller holds', async () => {
      const id = principal('tenant-owner');

      const error = await failure(
        sut.revoke(caller('tenant-admin'), { principalId: id, role: 'tenant-owner' }),
      );

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(held.get(id)).toEqual(['tenant-owner']);
      expect(audit.record).not.toHaveBeenCalled();
    });
  });
});
