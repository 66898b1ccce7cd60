import pino from 'pino';
import {
  AuthApiKeyRevoked,
  AuthApiKeysCreate,
  AuthApiKeysList,
  AuthApiKeysRevoke,
  AuthApiKeysVerify,
  AuthRolesCreate,
  AuthRolesGrant,
  AuthRolesRevoke,
  AuthServiceAccountsCreate,
  AuthUsersCreate,
  AuthUsersList,
  AuthUsersSetStatus,
  ErrorCode,
  TenantsDelete,
  TenantsReactivate,
  TenantsSuspend,
} from '@lattice/contracts';
import { EventBus } from '@lattice/messaging';
import { ManualClock, eventually, failure } from '@lattice/testing';
import { startAuthTestBed, type AuthTestBed } from '../../test/auth.test-bed';

jest.setTimeout(60_000);

describe('API keys, service accounts and roles', () => {
  const clock = new ManualClock(new Date());
  let bed: AuthTestBed;
  let tenant: { id: string; slug: string };
  let other: { id: string; slug: string };

  beforeAll(async () => {
    bed = await startAuthTestBed({ clock });
    tenant = await bed.newTenant();
    other = await bed.newTenant();
  });
  afterAll(() => bed?.close());

  const as = async (roles: string[], t = tenant) => {
    const user = await bed.newUser(t.id, roles);
    return { user, ctx: bed.contextOf((await bed.login(t.slug, user.email)).accessToken) };
  };

  it('shows a key once, keeps only its hash, and finds it by prefix', async () => {
    const { ctx } = await as(['developer']);
    const { key, apiKey } = await bed.rpc.request(AuthApiKeysCreate, { name: 'ci' }, ctx);
    expect(key).toMatch(new RegExp(`^lat_${apiKey.prefix}_`));
    const secret = key.slice(`lat_${apiKey.prefix}_`.length);
    const stored = await bed.ownerDb.query(`SELECT * FROM auth.api_keys WHERE id = $1`, [
      apiKey.id,
    ]);
    expect(JSON.stringify(stored)).not.toContain(secret);
    const listed = await bed.rpc.request(AuthApiKeysList, {}, ctx);
    expect(JSON.stringify(listed)).not.toContain(secret);

    const principal = await bed.rpc.request(AuthApiKeysVerify, { key }, ctx);
    expect(principal).toMatchObject({ keyId: apiKey.id, tenantId: tenant.id, ownerType: 'user' });
    expect(principal.permissions).toContain('manage:Job:own');
    const after = await bed.rpc.request(AuthApiKeysList, {}, ctx);
    expect(after.items.find((k) => k.id === apiKey.id)!.lastUsedAt).not.toBeNull();
  });

  it('refuses a key scoped beyond what its owner holds', async () => {
    const { ctx } = await as(['developer']);
    const error = await failure(
      bed.rpc.request(
        AuthApiKeysCreate,
        { name: 'greedy', permissions: ['delete:User:tenant'] },
        ctx,
      ),
    );
    expect(error.code).toBe(ErrorCode.Forbidden);
  });

  it("narrows a key to what its owner still holds when the owner's roles change", async () => {
    const { user, ctx } = await as(['developer', 'auditor']);
    const { key } = await bed.rpc.request(
      AuthApiKeysCreate,
      { name: 'audit-reader', permissions: ['read:AuditEvent:tenant', 'read:Job:tenant'] },
      ctx,
    );
    const admin = await bed.admin();
    await bed.rpc.request(
      AuthRolesRevoke,
      { principalId: user.id, role: 'auditor', tenantId: tenant.id },
      admin,
    );
    const principal = await bed.rpc.request(AuthApiKeysVerify, { key }, ctx);
    expect(principal.permissions).toEqual(['read:Job:tenant']);
  });

  it('stops verifying a key once revoked or expired', async () => {
    const { ctx } = await as(['developer']);
    const { key, apiKey } = await bed.rpc.request(AuthApiKeysCreate, { name: 'short' }, ctx);
    await bed.rpc.request(AuthApiKeysRevoke, { id: apiKey.id }, ctx);
    expect((await failure(bed.rpc.request(AuthApiKeysVerify, { key }, ctx))).code).toBe(
      ErrorCode.Unauthenticated,
    );

    const expiring = await bed.rpc.request(
      AuthApiKeysCreate,
      { name: 'expiring', expiresAt: new Date(clock.now().getTime() + 60_000).toISOString() },
      ctx,
    );
    await bed.rpc.request(AuthApiKeysVerify, { key: expiring.key }, ctx);
    clock.advance(61_000);
    expect(
      (await failure(bed.rpc.request(AuthApiKeysVerify, { key: expiring.key }, ctx))).code,
    ).toBe(ErrorCode.Unauthenticated);
  });

  it('tells every gateway of a revocation, once the key no longer verifies', async () => {
    const heard: { keyId: string; prefix: string; verifies: boolean }[] = [];
    const { ctx } = await as(['developer']);
    const { key, apiKey } = await bed.rpc.request(AuthApiKeysCreate, { name: 'gone' }, ctx);
    const sub = new EventBus(bed.nats, bed.ns, pino({ level: 'silent' })).subscribe(
      AuthApiKeyRevoked,
      async (revoked) => {
        const verifies = await bed.rpc
          .request(AuthApiKeysVerify, { key }, ctx)
          .then(() => true)
          .catch(() => false);
        heard.push({ ...revoked, verifies });
      },
    );
    await bed.nats.flush();
    try {
      await bed.rpc.request(AuthApiKeysRevoke, { id: apiKey.id }, ctx);
      await eventually(() =>
        expect(heard).toEqual([{ keyId: apiKey.id, prefix: apiKey.prefix, verifies: false }]),
      );
    } finally {
      sub.unsubscribe();
    }
  });

  it("stops verifying a suspended or deleted tenant's keys", async () => {
    const gone = await bed.newTenant();
    const { ctx } = await as(['developer'], gone);
    const { key } = await bed.rpc.request(AuthApiKeysCreate, { name: 'ci' }, ctx);
    await bed.rpc.request(AuthApiKeysVerify, { key }, ctx);

    await bed.rpc.request(TenantsSuspend, { id: gone.id }, await bed.admin());
    expect(await failure(bed.rpc.request(AuthApiKeysVerify, { key }, ctx))).toMatchObject({
      code: ErrorCode.Unauthenticated,
    });
    await bed.rpc.request(TenantsReactivate, { id: gone.id }, await bed.admin());
    await bed.rpc.request(AuthApiKeysVerify, { key }, ctx);
    await bed.rpc.request(TenantsDelete, { id: gone.id }, await bed.admin());
    expect(await failure(bed.rpc.request(AuthApiKeysVerify, { key }, ctx))).toMatchObject({
      code: ErrorCode.Unauthenticated,
    });
  });

  it("keeps a developer's hands off another developer's key", async () => {
    const alice = await as(['developer']);
    const bob = await as(['developer']);
    const { apiKey } = await bed.rpc.request(AuthApiKeysCreate, { name: 'alice' }, alice.ctx);
    expect(
      (await failure(bed.rpc.request(AuthApiKeysRevoke, { id: apiKey.id }, bob.ctx))).code,
    ).toBe(ErrorCode.NotFound);
    const bobs = await bed.rpc.request(AuthApiKeysList, {}, bob.ctx);
    expect(bobs.items.map((k) => k.id)).not.toContain(apiKey.id);
  });

  it('gives a service account keys within its roles', async () => {
    const { ctx } = await as(['tenant-admin']);
    const account = await bed.rpc.request(AuthServiceAccountsCreate, { name: 'ingest-bot' }, ctx);
    expect(account.roles).toEqual(['service-account']);
    const { key } = await bed.rpc.request(
      AuthApiKeysCreate,
      { name: 'bot', serviceAccountId: account.id, permissions: ['create:Job:tenant'] },
      ctx,
    );
    const principal = await bed.rpc.request(AuthApiKeysVerify, { key }, ctx);
    expect(principal).toMatchObject({ ownerType: 'service-account', ownerId: account.id });
    const beyond = await failure(
      bed.rpc.request(
        AuthApiKeysCreate,
        { name: 'bot2', serviceAccountId: account.id, permissions: ['delete:User:tenant'] },
        ctx,
      ),
    );
    expect(beyond.code).toBe(ErrorCode.Forbidden);
  });

  it('lets a tenant define roles only from permissions its creator holds, and grant no more than it holds', async () => {
    const { ctx } = await as(['tenant-admin']);
    const role = await bed.rpc.request(
      AuthRolesCreate,
      { name: 'job-runner', permissions: ['create:Job:tenant', 'read:Job:tenant'] },
      ctx,
    );
    expect(role.system).toBe(false);
    const escalation = await failure(
      bed.rpc.request(
        AuthRolesCreate,
        { name: 'closer', permissions: ['delete:Tenant:tenant'] },
        ctx,
      ),
    );
    expect(escalation.code).toBe(ErrorCode.Forbidden);

    const target = await bed.newUser(tenant.id, ['viewer']);
    await bed.rpc.request(AuthRolesGrant, { principalId: target.id, role: 'job-runner' }, ctx);
    const owner = await failure(
      bed.rpc.request(AuthRolesGrant, { principalId: target.id, role: 'tenant-owner' }, ctx),
    );
    expect(owner.code).toBe(ErrorCode.Forbidden);
    const platform = await failure(
      bed.rpc.request(AuthRolesGrant, { principalId: target.id, role: 'platform-admin' }, ctx),
    );
    expect(platform.code).toBe(ErrorCode.ValidationFailed);
    const login = await bed.login(tenant.slug, target.email);
    expect(bed.contextOf(login.accessToken).actor.permissions).toContain('create:Job:tenant');
  });

  it('lets a tenant admin disable a developer but not the tenant owner', async () => {
    const { ctx } = await as(['tenant-admin']);
    const owner = await bed.newUser(tenant.id, ['tenant-owner']);
    const developer = await bed.newUser(tenant.id, ['developer']);
    const refused = await failure(
      bed.rpc.request(AuthUsersSetStatus, { id: owner.id, status: 'disabled' }, ctx),
    );
    expect(refused.code).toBe(ErrorCode.Forbidden);
    await bed.login(tenant.slug, owner.email);
    const disabled = await bed.rpc.request(
      AuthUsersSetStatus,
      { id: developer.id, status: 'disabled' },
      ctx,
    );
    expect(disabled.status).toBe('disabled');
    // the owner, holding all the admin holds, may
    const ownerCtx = bed.contextOf((await bed.login(tenant.slug, owner.email)).accessToken);
    await bed.rpc.request(AuthUsersSetStatus, { id: developer.id, status: 'active' }, ownerCtx);
  });

  it("keeps one tenant's admins out of another tenant's users", async () => {
    const { user, ctx } = await as(['tenant-admin']);
    const intrusion = await failure(
      bed.rpc.request(
        AuthUsersCreate,
        { tenantId: other.id, email: 'mole@example.com', password: 'a-password-long-enough' },
        ctx,
      ),
    );
    expect(intrusion.code).toBe(ErrorCode.Forbidden);
    await bed.newUser(other.id, ['viewer'], 'only-in-other@example.com');
    const listed = await bed.rpc.request(AuthUsersList, {}, ctx);
    expect(listed.items.every((u) => u.tenantId === tenant.id)).toBe(true);
    // exactly this tenant's users, the caller among them, as the table owner counts them
    const everyone = await bed.rpc.request(AuthUsersList, { limit: 100 }, ctx);
    const own: { id: string }[] = await bed.ownerDb.query(
      `SELECT id FROM auth.users WHERE tenant_id = $1`,
      [tenant.id],
    );
    expect(everyone.items.map((u) => u.id).sort()).toEqual(own.map((r) => r.id).sort());
    expect(everyone.items.map((u) => u.id)).toContain(user.id);
    const peek = await failure(bed.rpc.request(AuthUsersList, { tenantId: other.id }, ctx));
    expect(peek.code).toBe(ErrorCode.Forbidden);
  });

  it('hides other tenants users even from a query with no tenant filter', async () => {
    await bed.newUser(other.id, ['viewer']);
    const rows = await bed.ownerDb.transaction(async (em) => {
      await em.query(`SET LOCAL ROLE lattice_auth`);
      await em.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant.id]);
      return em.query(`SELECT tenant_id FROM auth.users`);
    });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r: { tenant_id: string }) => r.tenant_id === tenant.id)).toBe(true);
  });
});
