import { randomUUID } from 'node:crypto';
import { ErrorCode, PLATFORM_ADMIN_ROLE, PLATFORM_TENANT_ID } from '@lattice/contracts';
import { createTestBed, failure, strictMock, type StrictMock } from '@lattice/testing';
import { EntityManager } from 'typeorm';
import { RoleCatalog } from './role-catalog';
import { RoleRepository } from './role.repository';

describe(RoleCatalog.name, () => {
  const tenantId = randomUUID();
  const em = strictMock(EntityManager);
  let sut: RoleCatalog;
  let customRoles: StrictMock<RoleRepository>;

  beforeEach(() => {
    const bed = createTestBed(RoleCatalog);
    sut = bed.sut;
    customRoles = bed.mocks.get(RoleRepository);
    customRoles.list.mockResolvedValue([
      { name: 'job-runner', description: 'Runs jobs', permissions: ['manage:Job:tenant'] },
    ]);
  });

  describe('list', () => {
    it("offers a tenant the tenant-level system roles and its own, not the platform's", async () => {
      const roles = await sut.list(em, tenantId);
      const names = roles.map((r) => r.name);

      expect(names).toEqual(expect.arrayContaining(['tenant-owner', 'viewer', 'job-runner']));
      expect(names).not.toContain(PLATFORM_ADMIN_ROLE);
      expect(roles.find((r) => r.name === 'viewer')?.system).toBe(true);
      expect(roles.find((r) => r.name === 'job-runner')).toEqual({
        name: 'job-runner',
        description: 'Runs jobs',
        system: false,
        permissions: ['manage:Job:tenant'],
      });
    });

    it('offers the platform the platform-level system roles, not the tenant ones', async () => {
      customRoles.list.mockResolvedValue([]);

      const names = (await sut.list(em, PLATFORM_TENANT_ID)).map((r) => r.name);

      expect(names).toContain(PLATFORM_ADMIN_ROLE);
      expect(names).not.toContain('tenant-owner');
    });
  });

  describe('grantedBy', () => {
    it('adds up what the named roles grant', async () => {
      const granted = await sut.grantedBy(em, tenantId, ['job-runner', 'tenant-owner']);

      expect(granted.sort()).toEqual(['manage:Job:tenant', 'manage:all:tenant']);
    });

    it('refuses a name that is not a role here, as a validation error naming it', async () => {
      const error = await failure(sut.grantedBy(em, tenantId, ['viewer', PLATFORM_ADMIN_ROLE]));

      expect(error.code).toBe(ErrorCode.ValidationFailed);
      expect(error.details).toEqual({
        issues: [{ path: 'roles', message: `unknown role "${PLATFORM_ADMIN_ROLE}"` }],
      });
    });
  });

  describe('permissionsOf', () => {
    it("counts the tenant's custom roles as the tenant defined them", async () => {
      await expect(sut.permissionsOf(em, tenantId, ['job-runner', 'billing'])).resolves.toEqual([
        'manage:Job:tenant',
        'read:Tenant:tenant',
        'read:Usage:tenant',
        'update:Tenant:tenant',
      ]);
    });

    it('gives a platform role nothing outside the platform tenant', async () => {
      await expect(sut.permissionsOf(em, tenantId, [PLATFORM_ADMIN_ROLE])).resolves.toEqual([]);
      await expect(
        sut.permissionsOf(em, PLATFORM_TENANT_ID, [PLATFORM_ADMIN_ROLE]),
      ).resolves.toEqual(['manage:all:platform']);
    });
  });

  describe('assertMayHandOn', () => {
    it('allows handing on what a broader permission of the granter covers', () => {
      expect(() =>
        sut.assertMayHandOn(['manage:Job:tenant'], ['read:Job:tenant', 'create:Job:own']),
      ).not.toThrow();
    });

    it('refuses, naming them, permissions of a wider scope or another resource', () => {
      let refused: unknown;
      try {
        sut.assertMayHandOn(
          ['manage:Job:own', 'read:User:tenant'],
          ['read:Job:own', 'read:Job:tenant', 'update:User:tenant'],
        );
      } catch (error) {
        refused = error;
      }

      expect(refused).toMatchObject({
        code: ErrorCode.Forbidden,
        details: { permissions: ['read:Job:tenant', 'update:User:tenant'] },
      });
    });
  });
});
