import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import { startE2EPlatform, type E2EPlatform } from './support/platform.harness';

jest.setTimeout(90_000);

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Signing-key rotation as the gateway sees it, with its default bound on JWKS refetches: a
 * rotation must not open a window in which fresh sign-ins are refused.
 */
describe('signing-key rotation at the gateway', () => {
  let platform: E2EPlatform;
  let tenant: { id: string; slug: string };
  const password = 'a-password-long-enough';

  beforeAll(async () => {
    platform = await startE2EPlatform();
    const slug = `rot-${randomUUID().slice(0, 8)}`;
    const created = await platform.call('/v1/tenants', {
      method: 'POST',
      json: { slug, name: slug, plan: 'professional' },
    });
    expect(created.status).toBe(201);
    tenant = { id: (await created.json()).id, slug };
  });
  afterAll(() => platform?.stop());

  async function signIn(): Promise<string> {
    const email = `${randomUUID().slice(0, 8)}@example.com`;
    const created = await platform.call('/v1/users', {
      method: 'POST',
      json: { tenantId: tenant.id, email, password, roles: ['viewer'] },
    });
    expect(created.status).toBe(201);
    return (await platform.login(tenant.slug, email, password)).accessToken;
  }

  it('accepts a sign-in made right after a rotation at once, rotation after rotation', async () => {
    for (let round = 0; round < 3; round++) {
      // a token with a kid nobody issued makes the gateway spend its refetch allowance now, so
      // the rotation below falls inside the bound, as it does for any busy gateway
      const forged = `${b64({ alg: 'ES256', typ: 'at+jwt', kid: randomUUID() })}.${b64({})}.AA`;
      expect((await platform.call(`/v1/tenants/${tenant.id}`, { token: forged })).status).toBe(401);

      const rotated = await platform.call('/v1/auth/signing-keys/rotate', { method: 'POST' });
      expect(rotated.status).toBe(200);
      const { kid } = await rotated.json();

      const fresh = await signIn();
      expect(decodeProtectedHeader(fresh).kid).toBe(kid);
      expect((await platform.call(`/v1/tenants/${tenant.id}`, { token: fresh })).status).toBe(200);
    }
  });
});
