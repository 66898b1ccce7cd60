import { randomUUID } from 'node:crypto';
import { ErrorCode, PLATFORM_ADMIN_ROLE } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import {
  createTestBed,
  failure,
  provide,
  scopedTransactions,
  type RecordingScope,
  type StrictMock,
} from '@lattice/testing';
import type { EntityManager } from 'typeorm';
import { userContext } from '../../test/auth-unit.fixtures';
import { ApiKeyRepository } from '../api-keys/api-key.repository';
import { RoleBindingRepository } from '../roles/role-binding.repository';
import { RefreshTokenRepository } from '../sessions/refresh-token.repository';
import { UserRepository } from '../users/user.repository';
import { PersonalDataService } from './personal-data.service';

describe(PersonalDataService.name, () => {
  const tenantId = randomUUID();
  const subjectId = randomUUID();
  let sut: PersonalDataService;
  let em: EntityManager;
  let scope: RecordingScope;
  let users: StrictMock<UserRepository>;
  let bindings: StrictMock<RoleBindingRepository>;
  let refreshTokens: StrictMock<RefreshTokenRepository>;
  let apiKeys: StrictMock<ApiKeyRepository>;

  const caller = (role: string, id = randomUUID(), tenant: string | null = tenantId) =>
    userContext(tenant, [role], id);
  const account = { id: subjectId, email: 'ada@example.com', displayName: 'Ada' };
  const roles = [{ role: 'viewer', grantedBy: randomUUID(), grantedAt: new Date(0) }];
  const sessions = [{ session: randomUUID(), issuedAt: new Date(0) }];
  const keys = [{ id: randomUUID(), name: 'laptop', prefix: 'abcdefghijkl' }];

  beforeEach(() => {
    ({ em, scope } = scopedTransactions());
    const bed = createTestBed(PersonalDataService, [provide(TenantScope, scope)]);
    sut = bed.sut;
    users = bed.mocks.get(UserRepository);
    users.personalData.mockImplementation(async (_em, id) =>
      id === subjectId ? account : undefined,
    );
    users.remove.mockImplementation(async (_em, id) => (id === subjectId ? 1 : 0));
    bindings = bed.mocks.get(RoleBindingRepository);
    bindings.personalData.mockResolvedValue(roles);
    bindings.removeAllOf.mockResolvedValue(roles.length);
    refreshTokens = bed.mocks.get(RefreshTokenRepository);
    refreshTokens.personalData.mockResolvedValue(sessions);
    refreshTokens.removeAllOfUser.mockResolvedValue(3);
    apiKeys = bed.mocks.get(ApiKeyRepository);
    apiKeys.personalData.mockResolvedValue(keys);
    apiKeys.removeAllOfUser.mockResolvedValue(keys.length);
  });

  describe('export', () => {
    it('gives the subjects their own account, roles, sessions and API keys', async () => {
      const data = await sut.export(caller('viewer', subjectId), { tenantId, subjectId });

      expect(data).toEqual({ user: account, roles, sessions, apiKeys: keys });
      expect(users.personalData).toHaveBeenCalledWith(em, subjectId);
      expect(scope.tenants).toEqual([tenantId]);
    });

    it("gives a user's data to a tenant administrator", async () => {
      await expect(sut.export(caller('tenant-admin'), { tenantId, subjectId })).resolves.toEqual(
        expect.objectContaining({ user: account }),
      );
    });

    it("refuses another user's data to a user who may only read users", async () => {
      const error = await failure(sut.export(caller('viewer'), { tenantId, subjectId }));

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(scope.tenants).toEqual([]);
    });

    it("refuses a tenant administrator another tenant's user", async () => {
      const error = await failure(
        sut.export(caller('tenant-admin', subjectId), { tenantId: randomUUID(), subjectId }),
      );

      expect(error.code).toBe(ErrorCode.Forbidden);
    });

    it('answers nothing for a subject the auth service does not know', async () => {
      const admin = caller(PLATFORM_ADMIN_ROLE, randomUUID(), null);

      await expect(sut.export(admin, { tenantId, subjectId: randomUUID() })).resolves.toBeNull();
      await expect(sut.export(admin, { tenantId, subjectId: 'crm:4711' })).resolves.toBeNull();
      expect(scope.tenants).toEqual([tenantId]);
    });
  });

  describe('erase', () => {
    it('removes the account and everything hanging off it, counting what went', async () => {
      const erased = await sut.erase(caller('tenant-admin'), { tenantId, subjectId });

      expect(erased).toBe(keys.length + roles.length + 3 + 1);
      for (const remove of [
        apiKeys.removeAllOfUser,
        bindings.removeAllOf,
        refreshTokens.removeAllOfUser,
        users.remove,
      ])
        expect(remove).toHaveBeenCalledWith(em, subjectId);
      expect(scope.tenants).toEqual([tenantId]);
    });

    it('lets subjects erase themselves', async () => {
      await expect(sut.erase(caller('viewer', subjectId), { tenantId, subjectId })).resolves.toBe(
        keys.length + roles.length + 3 + 1,
      );
    });

    it('refuses a caller who may read users but not delete them', async () => {
      const error = await failure(sut.erase(caller('auditor'), { tenantId, subjectId }));

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(users.remove).not.toHaveBeenCalled();
    });

    it('erases nothing for a subject id that is no user id', async () => {
      await expect(
        sut.erase(caller('tenant-admin'), { tenantId, subjectId: 'crm:4711' }),
      ).resolves.toBe(0);
      expect(scope.tenants).toEqual([]);
    });
  });
});
