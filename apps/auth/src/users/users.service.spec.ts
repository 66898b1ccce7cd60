import { randomBytes, randomUUID } from 'node:crypto';
import { ErrorCode, PLATFORM_ADMIN_ROLE } from '@lattice/contracts';
import { CursorCodec, TenantScope } from '@lattice/database';
import { AuditRecorder } from '@lattice/messaging';
import { Clock } from '@lattice/service-runtime';
import {
  ManualClock,
  createTestBed,
  failure,
  provide,
  scopedTransactions,
  strictMock,
  type RecordingScope,
  type StrictMock,
} from '@lattice/testing';
import type { EntityManager } from 'typeorm';
import { roleCatalog, userContext, userRow } from '../../test/auth-unit.fixtures';
import { TenantDirectory } from '../access/tenant-directory';
import { PasswordHasher } from '../passwords/password-hasher';
import { RoleBindingRepository } from '../roles/role-binding.repository';
import { RoleCatalog } from '../roles/role-catalog';
import { RefreshTokenRepository } from '../sessions/refresh-token.repository';
import { UserRepository, type UserRow } from './user.repository';
import { UsersService } from './users.service';

const NOW = new Date('2026-05-01T09:00:00Z');
const JOB_RUNNER = { name: 'job-runner', description: '', permissions: ['manage:Job:tenant'] };

describe(UsersService.name, () => {
  const tenantId = randomUUID();
  let sut: UsersService;
  let em: EntityManager;
  let scope: RecordingScope;
  let users: StrictMock<UserRepository>;
  let bindings: StrictMock<RoleBindingRepository>;
  let refreshTokens: StrictMock<RefreshTokenRepository>;
  let audit: StrictMock<AuditRecorder>;
  let tenants: StrictMock<TenantDirectory>;
  let hasher: StrictMock<PasswordHasher>;
  /** The roles each principal holds, as the bindings table keeps them. */
  let held: Map<string, string[]>;

  const caller = (role: string, tenant: string | null = tenantId) => userContext(tenant, [role]);
  const row = (changes: Partial<UserRow> = {}) => userRow(tenantId, changes);
  /** A user the repository finds, holding the given roles. */
  const stored = (roles: string[], changes: Partial<UserRow> = {}): UserRow => {
    const user = row(changes);
    held.set(user.id, roles);
    users.byId.mockImplementation(async (_em, id) => (id === user.id ? user : undefined));
    return user;
  };

  beforeEach(() => {
    held = new Map();
    ({ em, scope } = scopedTransactions());
    bindings = strictMock(RoleBindingRepository);
    bindings.rolesOf.mockImplementation(async (_em, id) => [...(held.get(id) ?? [])].sort());
    bindings.bind.mockImplementation(async (_em, b) => {
      held.set(b.principalId, [...(held.get(b.principalId) ?? []), b.role]);
    });
    const bed = createTestBed(UsersService, [
      provide(TenantScope, scope),
      provide(RoleBindingRepository, bindings),
      provide(RoleCatalog, roleCatalog(bindings, [JOB_RUNNER])),
      provide(CursorCodec, new CursorCodec(randomBytes(32))),
      provide(Clock, new ManualClock(NOW)),
    ]);
    sut = bed.sut;
    users = bed.mocks.get(UserRepository);
    refreshTokens = bed.mocks.get(RefreshTokenRepository);
    audit = bed.mocks.get(AuditRecorder);
    audit.record.mockReturnValue(randomUUID());
    tenants = bed.mocks.get(TenantDirectory);
    tenants.assertActive.mockResolvedValue();
    hasher = bed.mocks.get(PasswordHasher);
    hasher.hash.mockImplementation(async (password) => `hashed:${password}`);
  });

  describe('create', () => {
    const request = (roles: string[], tenant?: string) => ({
      tenantId: tenant,
      email: 'ada@example.com',
      password: 'correct horse battery staple',
      displayName: 'Ada',
      roles,
    });
    beforeEach(() => {
      users.insert.mockImplementation(async (_em, u) =>
        row({ tenant_id: u.tenantId, email: u.email, password_hash: u.passwordHash }),
      );
    });

    it('stores the user with a hash of the password and the roles given, and audits it', async () => {
      const admin = caller('tenant-admin');

      const view = await sut.create(admin, request(['viewer', 'developer', 'viewer']));

      expect(view).toMatchObject({ tenantId, roles: ['developer', 'viewer'], status: 'active' });
      expect(users.insert).toHaveBeenCalledWith(em, {
        tenantId,
        email: 'ada@example.com',
        displayName: 'Ada',
        passwordHash: 'hashed:correct horse battery staple',
      });
      expect(held.get(view.id)).toEqual(['viewer', 'developer']);
      expect(bindings.bind).toHaveBeenCalledWith(em, {
        tenantId,
        principalId: view.id,
        role: 'developer',
        grantedBy: admin.actor.id,
      });
      expect(scope.tenants).toEqual([tenantId]);
      expect(audit.record).toHaveBeenCalledWith(
        expect.objectContaining({
          tenantId,
          action: 'user.create',
          outcome: 'success',
          resource: { type: 'User', id: view.id },
          metadata: { roles: ['developer', 'viewer'] },
        }),
      );
    });

    it('lets a platform administrator create a user in the tenant it names', async () => {
      const other = randomUUID();

      const view = await sut.create(caller(PLATFORM_ADMIN_ROLE, null), request([], other));

      expect(view.tenantId).toBe(other);
      expect(tenants.assertActive).toHaveBeenCalledWith(other);
      expect(scope.tenants).toEqual([other]);
    });

    it('refuses a tenant administrator naming another tenant', async () => {
      const error = await failure(sut.create(caller('tenant-admin'), request([], randomUUID())));

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(users.insert).not.toHaveBeenCalled();
      expect(audit.record).not.toHaveBeenCalled();
    });

    it('refuses a caller who may only read users', async () => {
      const error = await failure(sut.create(caller('developer'), request([])));

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(users.insert).not.toHaveBeenCalled();
    });

    it('refuses to hand on a role granting more than the caller holds', async () => {
      const error = await failure(sut.create(caller('tenant-admin'), request(['tenant-owner'])));

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(error.details).toEqual({ permissions: ['manage:all:tenant'] });
      expect(users.insert).not.toHaveBeenCalled();
      expect(bindings.bind).not.toHaveBeenCalled();
      expect(audit.record).not.toHaveBeenCalled();
    });

    it("hands on the tenant's custom roles within what the caller holds", async () => {
      const view = await sut.create(caller('tenant-admin'), request(['job-runner']));

      expect(view.roles).toEqual(['job-runner']);
    });

    it('refuses a role the tenant does not have, naming it', async () => {
      const error = await failure(sut.create(caller('tenant-owner'), request(['platform-admin'])));

      expect(error.code).toBe(ErrorCode.ValidationFailed);
      expect(error.message).toContain('"platform-admin"');
      expect(users.insert).not.toHaveBeenCalled();
    });

    it('answers Conflict when the email is taken, and audits nothing', async () => {
      users.insert.mockResolvedValue(undefined);

      const error = await failure(sut.create(caller('tenant-admin'), request(['viewer'])));

      expect(error.code).toBe(ErrorCode.Conflict);
      expect(bindings.bind).not.toHaveBeenCalled();
      expect(audit.record).not.toHaveBeenCalled();
    });
  });

  describe('get', () => {
    it('shows a user with its roles', async () => {
      const user = stored(['viewer', 'analyst']);

      await expect(sut.get(caller('viewer'), user.id)).resolves.toMatchObject({
        id: user.id,
        email: 'ada@example.com',
        roles: ['analyst', 'viewer'],
        status: 'active',
        lockedUntil: null,
      });
    });

    it('says NotFound, not Forbidden, to a caller who may not read users', async () => {
      const user = stored(['viewer']);

      const error = await failure(sut.get(caller('service-account'), user.id));

      expect(error.code).toBe(ErrorCode.NotFound);
      expect(users.byId).not.toHaveBeenCalled();
    });

    it('says NotFound for a user the tenant does not have', async () => {
      stored(['viewer']);

      expect((await failure(sut.get(caller('viewer'), randomUUID()))).code).toBe(
        ErrorCode.NotFound,
      );
    });

    it('shows a user locked until a time still to come as locked', async () => {
      const until = new Date(NOW.getTime() + 60_000);
      const user = stored([], { status: 'locked', locked_until: until });

      await expect(sut.get(caller('viewer'), user.id)).resolves.toMatchObject({
        status: 'locked',
        lockedUntil: until.toISOString(),
      });
    });

    it('shows a user whose lockout has run out as active', async () => {
      const user = stored([], {
        status: 'locked',
        locked_until: new Date(NOW.getTime() - 1),
      });

      await expect(sut.get(caller('viewer'), user.id)).resolves.toMatchObject({
        status: 'active',
        lockedUntil: null,
      });
    });
  });

  describe('list', () => {
    it('pages through the users with a cursor that resumes after the last one shown', async () => {
      const rows = [1, 2, 3].map((day) =>
        row({ created_at: new Date(`2026-04-0${day}T00:00:00Z`) }),
      );
      users.page.mockImplementation(async (_em, limit, after) => {
        const from = after ? rows.findIndex((r) => r.id === after[1]) + 1 : 0;
        return rows.slice(from, from + limit);
      });

      const first = await sut.list(caller('viewer'), { limit: 2 });
      const second = await sut.list(caller('viewer'), { limit: 2, cursor: first.nextCursor! });

      expect(first.items.map((u) => u.id)).toEqual([rows[0]!.id, rows[1]!.id]);
      expect(second.items.map((u) => u.id)).toEqual([rows[2]!.id]);
      expect(second.nextCursor).toBeNull();
    });

    it("refuses another tenant's cursor", async () => {
      users.page.mockResolvedValue([row(), row()]);
      const other = randomUUID();
      const { nextCursor } = await sut.list(caller(PLATFORM_ADMIN_ROLE, null), {
        tenantId: other,
        limit: 1,
      });

      const error = await failure(sut.list(caller('viewer'), { limit: 1, cursor: nextCursor! }));

      expect(error.code).toBe(ErrorCode.ValidationFailed);
    });
  });

  describe('setStatus', () => {
    beforeEach(() => {
      users.setStatus.mockResolvedValue();
      refreshTokens.revokeAllOfUser.mockResolvedValue();
    });

    it("disables a user, ends the user's sessions and audits it", async () => {
      const user = stored(['developer']);

      const view = await sut.setStatus(caller('tenant-admin'), user.id, 'disabled');

      expect(view.status).toBe('disabled');
      expect(users.setStatus).toHaveBeenCalledWith(em, user.id, 'disabled');
      expect(refreshTokens.revokeAllOfUser).toHaveBeenCalledWith(em, user.id);
      expect(audit.record).toHaveBeenCalledWith(
        expect.objectContaining({
          tenantId,
          action: 'user.disable',
          outcome: 'success',
          resource: { type: 'User', id: user.id },
        }),
      );
    });

    it('enables a user, clearing a lockout, without touching its sessions', async () => {
      const user = stored(['developer'], {
        status: 'locked',
        failed_attempts: 3,
        locked_until: new Date(NOW.getTime() + 60_000),
      });

      const view = await sut.setStatus(caller('tenant-admin'), user.id, 'active');

      expect(view).toMatchObject({ status: 'active', lockedUntil: null });
      expect(refreshTokens.revokeAllOfUser).not.toHaveBeenCalled();
      expect(audit.record).toHaveBeenCalledWith(
        expect.objectContaining({ action: 'user.enable', outcome: 'success' }),
      );
    });

    it('refuses to disable a user holding permissions the caller lacks', async () => {
      const owner = stored(['tenant-owner']);

      const error = await failure(sut.setStatus(caller('tenant-admin'), owner.id, 'disabled'));

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(error.details).toEqual({ permissions: ['manage:all:tenant'] });
      expect(users.setStatus).not.toHaveBeenCalled();
      expect(refreshTokens.revokeAllOfUser).not.toHaveBeenCalled();
      expect(audit.record).not.toHaveBeenCalled();
    });

    it('refuses a caller who may only read users', async () => {
      const user = stored(['viewer']);

      const error = await failure(sut.setStatus(caller('developer'), user.id, 'disabled'));

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(users.setStatus).not.toHaveBeenCalled();
    });

    it('says NotFound for a user the tenant does not have', async () => {
      stored(['viewer']);

      const error = await failure(sut.setStatus(caller('tenant-admin'), randomUUID(), 'disabled'));

      expect(error.code).toBe(ErrorCode.NotFound);
      expect(users.setStatus).not.toHaveBeenCalled();
    });
  });
});
