import { randomUUID } from 'node:crypto';
import { createLocalJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import {
  AuthJwks,
  AuthLogin,
  AuthLogout,
  AuthRefresh,
  AuthRolesGrant,
  AuthRotateKeys,
  ErrorCode,
  PLATFORM_TENANT_ID,
  TenantsReactivate,
  TenantsSuspend,
} from '@lattice/contracts';
import { ManualClock, eventually, failure } from '@lattice/testing';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  PASSWORD,
  anonymous,
  startAuthTestBed,
  type AuthTestBed,
} from '../../test/auth.test-bed';

jest.setTimeout(60_000);

describe('logins and sessions', () => {
  const clock = new ManualClock(new Date());
  let bed: AuthTestBed;
  let tenant: { id: string; slug: string };

  beforeAll(async () => {
    bed = await startAuthTestBed({
      clock,
      env: { AUTH_LOCKOUT_THRESHOLD: '3', AUTH_LOCKOUT_SECONDS: '600' },
    });
    tenant = await bed.newTenant();
  });
  afterAll(() => bed?.close());

  const verify = async (token: string) => {
    const jwks = createLocalJWKSet(await bed.rpc.request(AuthJwks, {}, anonymous()));
    return jwtVerify(token, jwks, {
      issuer: bed.config.AUTH_ISSUER,
      audience: bed.config.AUTH_AUDIENCE,
      algorithms: ['ES256'],
      currentDate: clock.now(),
    });
  };

  it('signs in the first platform admin created at start-up', async () => {
    const tokens = await bed.login('platform', ADMIN_EMAIL, ADMIN_PASSWORD);
    const { payload } = await verify(tokens.accessToken);
    expect(payload.tid).toBe(PLATFORM_TENANT_ID);
    expect(payload.roles).toEqual(['platform-admin']);
  });

  it('gives a user a signed access token saying who, which tenant and which roles', async () => {
    const user = await bed.newUser(tenant.id, ['developer']);
    const tokens = await bed.login(tenant.slug, user.email);
    const { payload, protectedHeader } = await verify(tokens.accessToken);
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(protectedHeader.kid).toEqual(expect.any(String));
    expect(payload).toMatchObject({
      sub: user.id,
      tid: tenant.id,
      roles: ['developer'],
      iss: bed.config.AUTH_ISSUER,
      aud: bed.config.AUTH_AUDIENCE,
    });
    expect(payload.perms).toContain('manage:Job:own');
    expect(payload.exp! - payload.iat!).toBe(bed.config.AUTH_ACCESS_TOKEN_TTL_SECONDS);
    expect(tokens.refreshToken).toMatch(/^lrt\./);
  });

  it('answers an unknown email, a wrong password and an unknown tenant alike', async () => {
    const user = await bed.newUser(tenant.id, ['viewer']);
    const attempts = [
      { tenant: tenant.slug, email: 'nobody@example.com', password: PASSWORD },
      { tenant: tenant.slug, email: user.email, password: 'wrong-password-here' },
      { tenant: 'no-such-tenant', email: user.email, password: PASSWORD },
    ];
    const errors = await Promise.all(
      attempts.map((a) => failure(bed.rpc.request(AuthLogin, a, anonymous()))),
    );
    for (const error of errors) {
      expect(error.code).toBe(ErrorCode.Unauthenticated);
      expect(error.message).toBe(errors[0]!.message);
    }
  });

  it('locks an account after repeated failures, even against the right password, then lets it in again', async () => {
    const user = await bed.newUser(tenant.id, ['viewer']);
    for (let i = 0; i < 3; i++)
      await failure(bed.login(tenant.slug, user.email, 'not-the-password'));
    const locked = await failure(bed.login(tenant.slug, user.email));
    expect(locked.code).toBe(ErrorCode.Unauthenticated);

    await eventually(async () => {
      const events = await bed.auditEvents();
      const mine = events.filter((e) => e.actor.id === user.id);
      expect(mine.filter((e) => e.action === 'auth.login' && e.outcome === 'denied')).toHaveLength(
        4,
      );
      expect(mine.some((e) => e.action === 'auth.lockout')).toBe(true);
    });

    clock.advance(601_000);
    await expect(bed.login(tenant.slug, user.email)).resolves.toHaveProperty('accessToken');
  });

  it('rotates the refresh token on every use', async () => {
    const user = await bed.newUser(tenant.id, ['viewer']);
    const first = await bed.login(tenant.slug, user.email);
    const second = await bed.rpc.request(
      AuthRefresh,
      { refreshToken: first.refreshToken },
      anonymous(),
    );
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const third = await bed.rpc.request(
      AuthRefresh,
      { refreshToken: second.refreshToken },
      anonymous(),
    );
    expect((await verify(third.accessToken)).payload.sub).toBe(user.id);
  });

  it('revokes the whole family when a spent refresh token comes back', async () => {
    const user = await bed.newUser(tenant.id, ['viewer']);
    const stolen = await bed.login(tenant.slug, user.email);
    const legit = await bed.rpc.request(
      AuthRefresh,
      { refreshToken: stolen.refreshToken },
      anonymous(),
    );
    clock.advance(60_000); // past the grace for concurrent refreshes

    const reuse = await failure(
      bed.rpc.request(AuthRefresh, { refreshToken: stolen.refreshToken }, anonymous()),
    );
    expect(reuse.code).toBe(ErrorCode.Unauthenticated);
    // the legitimate holder's newer token dies with it
    const after = await failure(
      bed.rpc.request(AuthRefresh, { refreshToken: legit.refreshToken }, anonymous()),
    );
    expect(after.code).toBe(ErrorCode.Unauthenticated);
    await eventually(async () =>
      expect(
        (await bed.auditEvents()).some(
          (e) => e.action === 'auth.refresh-reuse-detected' && e.actor.id === user.id,
        ),
      ).toBe(true),
    );
  });

  it('lets a token just replaced be used again within the grace, for concurrent refreshes', async () => {
    const user = await bed.newUser(tenant.id, ['viewer']);
    const tokens = await bed.login(tenant.slug, user.email);
    const [a, b] = await Promise.all([
      bed.rpc.request(AuthRefresh, { refreshToken: tokens.refreshToken }, anonymous()),
      bed.rpc.request(AuthRefresh, { refreshToken: tokens.refreshToken }, anonymous()),
    ]);
    expect(a.refreshToken).not.toBe(b.refreshToken);
    await expect(
      bed.rpc.request(AuthRefresh, { refreshToken: b.refreshToken }, anonymous()),
    ).resolves.toHaveProperty('accessToken');
  });

  it('refuses a tampered or malformed refresh token', async () => {
    const user = await bed.newUser(tenant.id, ['viewer']);
    const { refreshToken } = await bed.login(tenant.slug, user.email);
    const tampered = refreshToken.slice(0, -2) + (refreshToken.endsWith('AA') ? 'BB' : 'AA');
    for (const token of [tampered, 'lrt.nonsense', 'x'.repeat(300)]) {
      expect(
        (await failure(bed.rpc.request(AuthRefresh, { refreshToken: token }, anonymous()))).code,
      ).toBe(ErrorCode.Unauthenticated);
    }
  });

  it('records a refused refresh or logout even when the token names no session', async () => {
    const ctx = anonymous();
    const unknown = `lrt.${tenant.id}.${randomUUID()}.${'A'.repeat(43)}`;
    for (const [contract, refreshToken] of [
      [AuthRefresh, 'not-a-refresh-token'],
      [AuthLogout, 'not-a-refresh-token'],
      [AuthLogout, unknown],
    ] as const) {
      expect((await failure(bed.rpc.request(contract, { refreshToken }, ctx))).code).toBe(
        ErrorCode.Unauthenticated,
      );
    }
    await eventually(async () => {
      const mine = (await bed.auditEvents()).filter((e) => e.requestId === ctx.requestId);
      expect(mine.map((e) => `${e.action}:${e.outcome}`).sort()).toEqual([
        'auth.logout:denied',
        'auth.logout:denied',
        'auth.refresh:denied',
      ]);
    });
  });

  it("refuses a suspended tenant's refresh tokens, and honours them again on reactivation", async () => {
    const suspended = await bed.newTenant();
    const user = await bed.newUser(suspended.id, ['developer']);
    const tokens = await bed.login(suspended.slug, user.email);
    await bed.rpc.request(TenantsSuspend, { id: suspended.id }, await bed.admin());

    const refused = await failure(
      bed.rpc.request(AuthRefresh, { refreshToken: tokens.refreshToken }, anonymous()),
    );
    expect(refused).toMatchObject({ code: ErrorCode.Unauthenticated });
    await eventually(async () =>
      expect(await bed.auditEvents()).toContainEqual(
        expect.objectContaining({
          tenantId: suspended.id,
          action: 'auth.refresh',
          outcome: 'denied',
          metadata: expect.objectContaining({ reason: 'tenant-inactive' }),
        }),
      ),
    );

    await bed.rpc.request(TenantsReactivate, { id: suspended.id }, await bed.admin());
    const resumed = await bed.rpc.request(
      AuthRefresh,
      { refreshToken: tokens.refreshToken },
      anonymous(),
    );
    expect(resumed.refreshToken).not.toBe(tokens.refreshToken);
  });

  it('ends the session on logout', async () => {
    const user = await bed.newUser(tenant.id, ['viewer']);
    const tokens = await bed.login(tenant.slug, user.email);
    await bed.rpc.request(AuthLogout, { refreshToken: tokens.refreshToken }, anonymous());
    const error = await failure(
      bed.rpc.request(AuthRefresh, { refreshToken: tokens.refreshToken }, anonymous()),
    );
    expect(error.code).toBe(ErrorCode.Unauthenticated);
  });

  it('carries a newly granted role into the next refreshed token', async () => {
    const user = await bed.newUser(tenant.id, ['viewer']);
    const tokens = await bed.login(tenant.slug, user.email);
    await bed.rpc.request(
      AuthRolesGrant,
      { principalId: user.id, role: 'auditor', tenantId: tenant.id },
      await bed.admin(),
    );
    expect((await verify(tokens.accessToken)).payload.roles).toEqual(['viewer']);
    const refreshed = await bed.rpc.request(
      AuthRefresh,
      { refreshToken: tokens.refreshToken },
      anonymous(),
    );
    expect((await verify(refreshed.accessToken)).payload.roles).toEqual(['auditor', 'viewer']);
    expect(decodeProtectedHeader(refreshed.accessToken).kid).toBe(
      decodeProtectedHeader(tokens.accessToken).kid,
    );
  });

  // last: it moves the clock past the access-token lifetime
  it('verifies tokens of a rotated-out key until they expire, then retires the key', async () => {
    const user = await bed.newUser(tenant.id, ['viewer']);
    const old = await bed.login(tenant.slug, user.email);
    const oldKid = decodeProtectedHeader(old.accessToken).kid;
    const { kid, retired } = await bed.rpc.request(AuthRotateKeys, {}, await bed.admin());
    expect(retired).toEqual([oldKid]);

    const fresh = await bed.login(tenant.slug, user.email);
    expect(decodeProtectedHeader(fresh.accessToken).kid).toBe(kid);
    await verify(fresh.accessToken);
    await verify(old.accessToken);

    clock.advance((bed.config.AUTH_ACCESS_TOKEN_TTL_SECONDS + 61) * 1000);
    const jwks = await bed.rpc.request(AuthJwks, {}, anonymous());
    expect(jwks.keys.map((k) => k.kid)).toEqual([kid]);
    await expect(verify(old.accessToken)).rejects.toThrow();
  });
});
