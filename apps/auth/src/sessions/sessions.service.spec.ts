import { randomUUID } from 'node:crypto';
import { ErrorCode, PLATFORM_TENANT_ID } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
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
import { authSettings, roleCatalog, userRow } from '../../test/auth-unit.fixtures';
import { TenantDirectory } from '../access/tenant-directory';
import { AUTH_SETTINGS } from '../auth.settings';
import { PasswordHasher } from '../passwords/password-hasher';
import { RoleBindingRepository } from '../roles/role-binding.repository';
import { RoleCatalog } from '../roles/role-catalog';
import { SigningKeys } from '../signing-keys/signing-keys.service';
import { UserRepository, type UserRow } from '../users/user.repository';
import { formatRefreshToken, hashSecret, parseRefreshToken } from './refresh-token';
import { RefreshTokenRepository, type RefreshTokenRow } from './refresh-token.repository';
import { SessionsService } from './sessions.service';

const NOW = new Date('2026-07-01T12:00:00Z');
const SETTINGS = authSettings({ lockoutThreshold: 3, lockoutSeconds: 300 });
const PASSWORD = 'correct horse battery staple';
/** Cheap enough for a unit test; production uses a far larger cost. */
const hasher = new PasswordHasher(4);

describe(SessionsService.name, () => {
  const tenantId = randomUUID();
  let sut: SessionsService;
  let em: EntityManager;
  let scope: RecordingScope;
  let clock: ManualClock;
  let users: StrictMock<UserRepository>;
  let tokens: StrictMock<RefreshTokenRepository>;
  let tenants: StrictMock<TenantDirectory>;
  let keys: StrictMock<SigningKeys>;
  let audit: StrictMock<AuditRecorder>;
  /** The users and refresh tokens as their tables keep them, by id. */
  let accounts: Map<string, UserRow>;
  let stored: Map<string, RefreshTokenRow>;

  const origin = { sourceIp: '203.0.113.7', userAgent: 'curl/8' };
  const account = async (changes: Partial<UserRow> = {}): Promise<UserRow> => {
    const row = userRow(tenantId, {
      password_hash: await hasher.hash(PASSWORD),
      created_at: new Date('2026-01-01T00:00:00Z'),
      ...changes,
    });
    accounts.set(row.id, row);
    return row;
  };
  const login = (password = PASSWORD, tenant = 'acme') =>
    sut.login({ tenant, email: 'ada@example.com', password, ...origin }, randomUUID());
  const refresh = (refreshToken: string) => sut.refresh({ refreshToken, ...origin }, randomUUID());
  const audited = (action: string) =>
    audit.record.mock.calls.map(([event]) => event).filter((e) => e.action === action);
  const tokenRow = (refreshToken: string) => stored.get(parseRefreshToken(refreshToken)!.id)!;

  beforeEach(() => {
    accounts = new Map();
    stored = new Map();
    ({ em, scope } = scopedTransactions());
    clock = new ManualClock(NOW);
    const bindings = strictMock(RoleBindingRepository);
    bindings.rolesOf.mockResolvedValue(['developer']);
    const bed = createTestBed(SessionsService, [
      provide(TenantScope, scope),
      provide(RoleCatalog, roleCatalog(bindings)),
      provide(PasswordHasher, hasher),
      provide(Clock, clock),
      provide(AUTH_SETTINGS, SETTINGS),
    ]);
    sut = bed.sut;
    tenants = bed.mocks.get(TenantDirectory);
    tenants.activeIdBySlug.mockImplementation(async (slug) =>
      slug === 'acme' ? tenantId : undefined,
    );
    tenants.isActive.mockResolvedValue(true);
    keys = bed.mocks.get(SigningKeys);
    keys.sign.mockImplementation(async (claims, subject) => `jwt.${subject}.${String(claims.sid)}`);
    audit = bed.mocks.get(AuditRecorder);
    audit.record.mockReturnValue(randomUUID());

    users = bed.mocks.get(UserRepository);
    users.byEmail.mockImplementation(async (_em, email) =>
      [...accounts.values()].find((u) => u.email === email),
    );
    users.byId.mockImplementation(async (_em, id) => accounts.get(id));
    // counts failures as the UPDATE does: the one reaching the threshold locks and starts over
    users.recordFailure.mockImplementation(async (_em, id, threshold, lockUntil) => {
      const user = accounts.get(id)!;
      const locked = user.failed_attempts + 1 >= threshold;
      accounts.set(id, {
        ...user,
        failed_attempts: locked ? 0 : user.failed_attempts + 1,
        status: locked ? 'locked' : user.status,
        locked_until: locked ? lockUntil : user.locked_until,
      });
      return { locked };
    });
    users.recordLogin.mockImplementation(async (_em, id, at, rehash) => {
      const user = accounts.get(id)!;
      accounts.set(id, {
        ...user,
        failed_attempts: 0,
        locked_until: null,
        last_login_at: at,
        status: user.status === 'locked' ? 'active' : user.status,
        password_hash: rehash ?? user.password_hash,
      });
    });

    tokens = bed.mocks.get(RefreshTokenRepository);
    tokens.insert.mockImplementation(async (_em, t) => {
      stored.set(t.id, {
        tenant_id: t.tenantId,
        id: t.id,
        family_id: t.familyId,
        parent_id: t.parentId,
        user_id: t.userId,
        secret_hash: t.secretHash,
        expires_at: t.expiresAt,
        used_at: null,
        revoked_at: null,
      });
    });
    tokens.lockById.mockImplementation(async (_em, id) => stored.get(id));
    tokens.successorUsed.mockImplementation(async (_em, id) =>
      [...stored.values()].some((t) => t.parent_id === id && t.used_at !== null),
    );
    tokens.markUsed.mockImplementation(async (_em, id, at) => {
      stored.set(id, { ...stored.get(id)!, used_at: at });
    });
    tokens.revokeFamily.mockImplementation(async (_em, family, at) => {
      for (const t of stored.values())
        if (t.family_id === family && !t.revoked_at) stored.set(t.id, { ...t, revoked_at: at });
    });
  });

  describe('login', () => {
    it('answers an access token and a refresh token that starts a session', async () => {
      const user = await account();

      const pair = await login();

      const refreshToken = parseRefreshToken(pair.refreshToken)!;
      const row = stored.get(refreshToken.id)!;
      expect(refreshToken.tenantId).toBe(tenantId);
      expect(row).toMatchObject({
        user_id: user.id,
        parent_id: null,
        expires_at: new Date(NOW.getTime() + SETTINGS.refreshTokenTtlSeconds * 1000),
      });
      expect(row.secret_hash).toEqual(hashSecret(refreshToken.secret));
      expect(pair).toEqual({
        accessToken: `jwt.${user.id}.${row.family_id}`,
        tokenType: 'Bearer',
        expiresIn: SETTINGS.accessTokenTtlSeconds,
        refreshToken: pair.refreshToken,
        refreshExpiresIn: SETTINGS.refreshTokenTtlSeconds,
      });
      expect(keys.sign).toHaveBeenCalledWith(
        {
          tid: tenantId,
          roles: ['developer'],
          perms: expect.arrayContaining(['manage:Job:own']),
          sid: row.family_id,
        },
        user.id,
        SETTINGS.accessTokenTtlSeconds,
      );
      expect(accounts.get(user.id)?.last_login_at).toEqual(NOW);
      expect(scope.tenants).toEqual([tenantId]);
    });

    it('audits a login as the user, with where it came from', async () => {
      const user = await account();

      await login();

      expect(audited('auth.login')).toEqual([
        expect.objectContaining({
          tenantId,
          actor: { type: 'user', id: user.id, roles: [] },
          outcome: 'success',
          resource: { type: 'User', id: user.id },
          sourceIp: origin.sourceIp,
          userAgent: origin.userAgent,
        }),
      ]);
    });

    it('answers an unknown tenant, an unknown email and a wrong password alike', async () => {
      await account();

      const errors = [
        await failure(login(PASSWORD, 'nobody')),
        await failure(
          sut.login({ tenant: 'acme', email: 'eve@example.com', password: PASSWORD }, 'r'),
        ),
        await failure(login('wrong password')),
      ];

      expect(errors.map((e) => [e.code, e.message])).toEqual([
        [ErrorCode.Unauthenticated, errors[0]!.message],
        [ErrorCode.Unauthenticated, errors[0]!.message],
        [ErrorCode.Unauthenticated, errors[0]!.message],
      ]);
      expect(stored.size).toBe(0);
      expect(audited('auth.login').map((e) => [e.tenantId, e.outcome, e.metadata])).toEqual([
        [PLATFORM_TENANT_ID, 'denied', { reason: 'unknown-tenant', tenant: 'nobody' }],
        [tenantId, 'denied', { reason: 'unknown-email' }],
        [tenantId, 'denied', { reason: 'wrong-password' }],
      ]);
    });

    it('locks the account for a while once the wrong password is given too often', async () => {
      const user = await account();
      const until = new Date(NOW.getTime() + SETTINGS.lockoutSeconds * 1000);

      for (let i = 0; i < SETTINGS.lockoutThreshold - 1; i++) await failure(login('guess'));
      expect(audited('auth.lockout')).toEqual([]);
      await failure(login('guess'));

      expect(users.recordFailure).toHaveBeenLastCalledWith(
        em,
        user.id,
        SETTINGS.lockoutThreshold,
        until,
      );
      expect(audited('auth.lockout')).toEqual([
        expect.objectContaining({
          outcome: 'success',
          actor: { type: 'user', id: user.id, roles: [] },
          metadata: { until: until.toISOString() },
        }),
      ]);
    });

    it('refuses even the right password while the account is locked, and lets it in after', async () => {
      const user = await account();
      for (let i = 0; i < SETTINGS.lockoutThreshold; i++) await failure(login('guess'));

      clock.advance(SETTINGS.lockoutSeconds * 1000 - 1);
      expect((await failure(login())).code).toBe(ErrorCode.Unauthenticated);
      expect(audited('auth.login').at(-1)?.metadata).toEqual({ reason: 'locked' });

      clock.advance(1);
      await expect(login()).resolves.toMatchObject({ tokenType: 'Bearer' });
      expect(accounts.get(user.id)).toMatchObject({ status: 'active', locked_until: null });
    });

    it('refuses a disabled user with the right password', async () => {
      await account({ status: 'disabled' });

      expect((await failure(login())).code).toBe(ErrorCode.Unauthenticated);
      expect(audited('auth.login').at(-1)?.metadata).toEqual({ reason: 'disabled' });
      expect(stored.size).toBe(0);
    });

    it('stores a stronger hash of the password when the stored one is weaker than policy', async () => {
      const weak = await new PasswordHasher(2).hash(PASSWORD);
      const user = await account({ password_hash: weak });

      await login();

      const rehashed = accounts.get(user.id)!.password_hash;
      expect(rehashed).not.toBe(weak);
      expect(hasher.needsRehash(rehashed)).toBe(false);
      await expect(hasher.verify(PASSWORD, rehashed)).resolves.toBe(true);
    });
  });

  describe('refresh', () => {
    it('swaps a refresh token for a new pair in the same session, once', async () => {
      await account();
      const first = await login();

      const second = await refresh(first.refreshToken);

      const [old, next] = [tokenRow(first.refreshToken), tokenRow(second.refreshToken)];
      expect(next).toMatchObject({ family_id: old.family_id, parent_id: old.id, used_at: null });
      expect(old.used_at).toEqual(NOW);
      expect(audited('auth.refresh')).toEqual([
        expect.objectContaining({ outcome: 'success', metadata: {} }),
      ]);
    });

    it('refuses text that is not a refresh token without opening a transaction', async () => {
      expect((await failure(refresh('lrt.not-a-token'))).code).toBe(ErrorCode.Unauthenticated);
      expect(scope.tenants).toEqual([]);
    });

    it('refuses a token whose secret does not match', async () => {
      await account();
      const token = parseRefreshToken((await login()).refreshToken)!;
      const forged = formatRefreshToken({ ...token, secret: 'x'.repeat(43) });

      expect((await failure(refresh(forged))).code).toBe(ErrorCode.Unauthenticated);
      expect(audited('auth.refresh').at(-1)?.metadata).toEqual({ reason: 'revoked-or-unknown' });
    });

    it('refuses a token from the moment it expires', async () => {
      await account();
      const { refreshToken } = await login();

      clock.advance(SETTINGS.refreshTokenTtlSeconds * 1000);

      expect((await failure(refresh(refreshToken))).code).toBe(ErrorCode.Unauthenticated);
      expect(audited('auth.refresh').at(-1)?.metadata).toEqual({ reason: 'expired' });
    });

    it('ends the whole session when a spent token is used again after the grace', async () => {
      const user = await account();
      const first = await login();
      const second = await refresh(first.refreshToken);

      clock.advance(SETTINGS.refreshReuseGraceSeconds * 1000 + 1);
      const error = await failure(refresh(first.refreshToken));

      expect(error.code).toBe(ErrorCode.Unauthenticated);
      expect(tokenRow(second.refreshToken).revoked_at).toEqual(clock.now());
      expect((await failure(refresh(second.refreshToken))).code).toBe(ErrorCode.Unauthenticated);
      expect(audited('auth.refresh-reuse-detected')).toEqual([
        expect.objectContaining({
          tenantId,
          outcome: 'denied',
          actor: { type: 'user', id: user.id, roles: [] },
          metadata: { reason: 'reuse-detected' },
        }),
      ]);
    });

    it('lets the token just replaced be used again within the grace, in the same session', async () => {
      await account();
      const first = await login();
      await refresh(first.refreshToken);

      clock.advance(SETTINGS.refreshReuseGraceSeconds * 1000);
      const again = await refresh(first.refreshToken);

      expect(tokenRow(again.refreshToken).family_id).toBe(tokenRow(first.refreshToken).family_id);
      expect(tokenRow(first.refreshToken).used_at).toEqual(NOW);
      expect(tokenRow(first.refreshToken).revoked_at).toBeNull();
    });

    it('gives no grace to a token whose successor was itself used', async () => {
      await account();
      const first = await login();
      const second = await refresh(first.refreshToken);
      const third = await refresh(second.refreshToken);

      expect((await failure(refresh(first.refreshToken))).code).toBe(ErrorCode.Unauthenticated);
      expect(audited('auth.refresh-reuse-detected')).toHaveLength(1);
      expect(tokenRow(third.refreshToken).revoked_at).toEqual(NOW);
    });

    it("pauses a suspended tenant's sessions, without ending them", async () => {
      await account();
      const { refreshToken } = await login();
      tenants.isActive.mockResolvedValue(false);

      expect((await failure(refresh(refreshToken))).code).toBe(ErrorCode.Unauthenticated);
      expect(audited('auth.refresh').at(-1)?.metadata).toEqual({ reason: 'tenant-inactive' });
      expect(tokenRow(refreshToken)).toMatchObject({ used_at: null, revoked_at: null });

      tenants.isActive.mockResolvedValue(true);
      await expect(refresh(refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
    });

    it('refuses a user disabled since the login', async () => {
      const user = await account();
      const { refreshToken } = await login();
      accounts.set(user.id, { ...accounts.get(user.id)!, status: 'disabled' });

      expect((await failure(refresh(refreshToken))).code).toBe(ErrorCode.Unauthenticated);
      expect(audited('auth.refresh').at(-1)?.metadata).toEqual({ reason: 'user-inactive' });
      expect(tokenRow(refreshToken).used_at).toBeNull();
    });

    it('refuses a user locked out since the login', async () => {
      const user = await account();
      const { refreshToken } = await login();
      accounts.set(user.id, {
        ...accounts.get(user.id)!,
        status: 'locked',
        locked_until: new Date(NOW.getTime() + 60_000),
      });

      expect((await failure(refresh(refreshToken))).code).toBe(ErrorCode.Unauthenticated);
    });
  });

  describe('logout', () => {
    it('ends the session: no token of it refreshes any more', async () => {
      const user = await account();
      const first = await login();
      const second = await refresh(first.refreshToken);

      await expect(sut.logout({ refreshToken: second.refreshToken }, randomUUID())).resolves.toBe(
        true,
      );

      expect((await failure(refresh(second.refreshToken))).code).toBe(ErrorCode.Unauthenticated);
      expect(audited('auth.logout')).toEqual([
        expect.objectContaining({ outcome: 'success', resource: { type: 'User', id: user.id } }),
      ]);
    });

    it('leaves the other sessions of the user alone', async () => {
      await account();
      const mine = await login();
      const elsewhere = await login();

      await sut.logout({ refreshToken: mine.refreshToken }, randomUUID());

      await expect(refresh(elsewhere.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
    });

    it('refuses a token it does not know, and records the refusal', async () => {
      await account();
      const token = parseRefreshToken((await login()).refreshToken)!;
      const forged = formatRefreshToken({ ...token, secret: 'x'.repeat(43) });

      const error = await failure(sut.logout({ refreshToken: forged }, randomUUID()));

      expect(error.code).toBe(ErrorCode.Unauthenticated);
      expect(tokenRow(formatRefreshToken(token)).revoked_at).toBeNull();
      expect(audited('auth.logout')).toEqual([
        expect.objectContaining({ outcome: 'denied', metadata: { reason: 'unknown' } }),
      ]);
    });
  });
});
