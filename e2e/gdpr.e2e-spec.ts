import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { eventually } from '@lattice/testing';
import { startE2EPlatform, type E2EPlatform } from './support/platform.harness';

jest.setTimeout(90_000);

/** A real user, known to the auth service and the audit trail, asks for their data and then to be forgotten. */
describe('GDPR across the services', () => {
  let platform: E2EPlatform;
  let tenant: { id: string; slug: string };
  let user: { id: string; email: string };
  const password = 'a-password-long-enough';
  // where the user signs in from, as the load balancer in front of the gateway tells it
  const ip = `198.18.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;
  const browser = `AliceBrowser/${randomUUID()}`;

  /** Signs in from the user's own address and browser. */
  async function login(tenant: string, email: string): Promise<{ accessToken: string }> {
    const response = await fetch(`${platform.gatewayUrl}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': ip, 'user-agent': browser },
      body: JSON.stringify({ tenant, email, password }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { accessToken: string };
  }

  beforeAll(async () => {
    platform = await startE2EPlatform({ GATEWAY_TRUST_PROXY: 'true' });
    const slug = `gdpr-${randomUUID().slice(0, 8)}`;
    const created = await platform.call('/v1/tenants', {
      method: 'POST',
      json: { slug, name: slug, plan: 'professional' },
    });
    tenant = { id: (await created.json()).id, slug };
    const email = `alice-${randomUUID().slice(0, 8)}@example.com`;
    const response = await platform.call('/v1/users', {
      method: 'POST',
      json: { tenantId: tenant.id, email, password, roles: ['developer'] },
    });
    user = { id: (await response.json()).id, email };
    await login(tenant.slug, email);
    const { accessToken } = await login(tenant.slug, email);
    const laptop = await platform.call('/v1/api-keys', {
      method: 'POST',
      token: accessToken,
      headers: { 'x-forwarded-for': ip, 'user-agent': browser },
      json: { name: 'alice-laptop' },
    });
    const { key } = (await laptop.json()) as { key: string };
    // and, through that key, from the same machine, retires another of her keys
    const spare = await platform.call('/v1/api-keys', {
      method: 'POST',
      token: accessToken,
      json: { name: 'alice-spare' },
    });
    const retired = await platform.call(`/v1/api-keys/${(await spare.json()).apiKey.id}`, {
      method: 'DELETE',
      token: key,
      headers: { 'x-forwarded-for': ip, 'user-agent': browser },
    });
    expect(retired.status).toBe(200);
  });
  afterAll(() => platform?.stop());

  /** Rows of every table of every service whose text mentions the needle. */
  async function mentions(needle: string): Promise<string[]> {
    const db = new Client({ connectionString: platform.databaseUrl });
    await db.connect();
    try {
      const { rows: tables } = await db.query(
        `SELECT table_schema, table_name FROM information_schema.tables
          WHERE table_schema IN ('tenants', 'auth', 'audit') AND table_type = 'BASE TABLE'`,
      );
      const found: string[] = [];
      for (const t of tables) {
        const { rows } = await db.query(
          `SELECT count(*)::int AS n FROM "${t.table_schema}"."${t.table_name}" x WHERE x::text ILIKE $1`,
          [`%${needle}%`],
        );
        if (rows[0].n > 0) found.push(`${t.table_schema}.${t.table_name}`);
      }
      return found;
    } finally {
      await db.end();
    }
  }

  it('gathers what every service holds about the user into one document', async () => {
    // the events arrive through the AUDIT stream: wait for the sign-ins and for every event
    // of the call made with her key (the gateway's and the auth service's)
    await eventually(async () => {
      const events = await platform.call(
        `/v1/audit-events?tenantId=${tenant.id}&action=auth.login`,
      );
      expect((await events.json()).items.length).toBeGreaterThanOrEqual(2);
      const byKey = await platform.call(`/v1/audit-events?tenantId=${tenant.id}&actorType=api-key`);
      const keyEvents = (await byKey.json()).items as { action: string }[];
      expect(keyEvents.filter((e) => /^api-keys?\./.test(e.action)).length).toBeGreaterThanOrEqual(
        2,
      );
    });
    const response = await platform.call('/v1/gdpr/subject-access', {
      method: 'POST',
      json: { tenantId: tenant.id, subjectId: user.id },
    });
    expect(response.status).toBe(200);
    const doc = await response.json();
    expect(doc.services.auth.user).toMatchObject({ id: user.id, email: user.email });
    expect(doc.services.auth.roles.map((r: { role: string }) => r.role)).toEqual(['developer']);
    expect(doc.services.auth.apiKeys).toHaveLength(2);
    expect(doc.services.auth.sessions.length).toBeGreaterThanOrEqual(2);
    // the audit trail knows where and with what the user signed in, and tells them
    const logins = doc.services.audit.events.filter(
      (e: { action: string }) => e.action === 'auth.login',
    );
    expect(logins.length).toBeGreaterThanOrEqual(2);
    expect(logins[0]).toMatchObject({ sourceIp: ip, userAgent: browser });
    // and what she did through her API key, from where
    expect(doc.services.audit.events).toContainEqual(
      expect.objectContaining({
        actor: expect.objectContaining({ type: 'api-key' }),
        action: expect.stringMatching(/^api-keys?\./),
        sourceIp: ip,
        userAgent: browser,
      }),
    );
    // secrets are never part of an export
    expect(JSON.stringify(doc)).not.toMatch(/scrypt\$|secret_hash|password/i);
  });

  it('erases the user everywhere, and the audit trail still verifies', async () => {
    expect(await mentions(user.email)).toEqual(['auth.users']);
    const response = await platform.call('/v1/gdpr/erasure', {
      method: 'POST',
      json: { tenantId: tenant.id, subjectId: user.id },
    });
    expect(response.status).toBe(200);
    const report = await response.json();
    const auth = report.services.find((s: { service: string }) => s.service === 'auth');
    expect(auth.erased).toBeGreaterThanOrEqual(4);

    expect(await mentions(user.email)).toEqual([]);
    // nor where they signed in from, nor with what: no copy of either is left in clear
    expect(await mentions(ip)).toEqual([]);
    expect(await mentions(browser)).toEqual([]);
    // the id stays only as the opaque subject of audit events, which nothing maps to a person now
    expect(await mentions(user.id)).toEqual(expect.not.arrayContaining(['auth.users']));
    expect((await mentions(user.id)).filter((t) => t !== 'audit.events')).toEqual([]);
    const login = await fetch(`${platform.gatewayUrl}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: tenant.slug, email: user.email, password }),
    });
    expect(login.status).toBe(401);

    const verify = await platform.call('/v1/audit-events/verify', {
      method: 'POST',
      json: { tenantId: tenant.id },
    });
    expect((await verify.json()).valid).toBe(true);
    const events = await platform.call(`/v1/audit-events?tenantId=${tenant.id}&action=auth.login`);
    expect((await events.json()).items.length).toBeGreaterThanOrEqual(2);
  });
});
