import { KeyObject, createHmac, randomUUID, sign } from 'node:crypto';
import { SignJWT, decodeJwt, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { Client } from 'pg';
import { EnvelopeCipher, KeyRing } from '@lattice/secrets';
import { eventually } from '@lattice/testing';
import { startE2EPlatform, type E2EPlatform } from './support/platform.harness';

jest.setTimeout(90_000);

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Tokens an attacker might present, each of which must be refused with 401, and a tenant's
 * valid credentials aimed at another tenant, which must be refused with 403.
 */
describe('attacks on authentication at the gateway', () => {
  let platform: E2EPlatform;
  let tenantA: { id: string; slug: string };
  let tenantB: { id: string; slug: string };
  let userToken: string;
  /** The real signing key, taken from the database as an insider with the KEK could. */
  let signingKey: { kid: string; key: Awaited<ReturnType<typeof importJWK>>; publicJwk: JWK };

  const password = 'a-password-long-enough';

  async function tenant(): Promise<{ id: string; slug: string }> {
    const slug = `atk-${randomUUID().slice(0, 8)}`;
    const response = await platform.call('/v1/tenants', {
      method: 'POST',
      json: { slug, name: slug, plan: 'professional' },
    });
    expect(response.status).toBe(201);
    return { id: (await response.json()).id, slug };
  }

  async function userIn(t: { id: string; slug: string }, roles: string[]): Promise<string> {
    const email = `${randomUUID().slice(0, 8)}@example.com`;
    const created = await platform.call('/v1/users', {
      method: 'POST',
      json: { tenantId: t.id, email, password, roles },
    });
    expect(created.status).toBe(201);
    return (await platform.login(t.slug, email, password)).accessToken;
  }

  const get = (path: string, token: string) => platform.call(path, { token });

  beforeAll(async () => {
    platform = await startE2EPlatform({ GATEWAY_JWKS_MIN_REFETCH_SECONDS: '0' });
    tenantA = await tenant();
    tenantB = await tenant();
    userToken = await userIn(tenantA, ['tenant-admin']);

    const db = new Client({ connectionString: platform.databaseUrl });
    await db.connect();
    const [row] = (
      await db.query(
        `SELECT kid, public_jwk, private_jwk_sealed FROM auth.signing_keys WHERE retired_at IS NULL`,
      )
    ).rows;
    await db.end();
    const cipher = new EnvelopeCipher(KeyRing.parse(platform.kek));
    const jwk = JSON.parse(
      cipher.decrypt(row.private_jwk_sealed, `auth.signing-key:${row.kid}`).toString(),
    ) as JWK;
    signingKey = { kid: row.kid, key: await importJWK(jwk, 'ES256'), publicJwk: row.public_jwk };
  });
  afterAll(() => platform?.stop());

  /** A token signed with the real key, with the claims of a real one changed as given. */
  const forge = (changes: Record<string, unknown>, header: Record<string, unknown> = {}) => {
    const claims = { ...decodeJwt(userToken), ...changes };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: signingKey.kid, ...header })
      .sign(signingKey.key);
  };

  async function expectRefused(token: string) {
    const response = await get(`/v1/tenants/${tenantA.id}`, token);
    expect(response.status).toBe(401);
    expect((await response.json()).code).toBe('UNAUTHENTICATED');
  }

  it('admits the genuine token, and a re-signed copy of it', async () => {
    expect((await get(`/v1/tenants/${tenantA.id}`, userToken)).status).toBe(200);
    // the forging helper itself produces acceptable tokens, so the refusals below are real
    expect((await get(`/v1/tenants/${tenantA.id}`, await forge({}))).status).toBe(200);
  });

  it('refuses alg "none"', async () => {
    const [, payload] = userToken.split('.');
    const header = b64({ alg: 'none', typ: 'at+jwt', kid: signingKey.kid });
    await expectRefused(`${header}.${payload}.`);
  });

  it('refuses HS256 signed with the public key as the secret', async () => {
    const header = b64({ alg: 'HS256', typ: 'at+jwt', kid: signingKey.kid });
    const payload = userToken.split('.')[1];
    for (const secret of [JSON.stringify(signingKey.publicJwk), signingKey.publicJwk.x!]) {
      const signature = createHmac('sha256', secret)
        .update(`${header}.${payload}`)
        .digest('base64url');
      await expectRefused(`${header}.${payload}.${signature}`);
    }
  });

  it('refuses an unknown kid and an injected one', async () => {
    for (const kid of [
      'no-such-key',
      '../../../../etc/passwd',
      "x' OR '1'='1",
      'https://evil.example/jwks.json',
    ]) {
      await expectRefused(await forge({}, { kid }));
    }
    await expectRefused(await forge({}, { kid: undefined, jku: 'https://evil.example/jwks.json' }));
  });

  it('refuses a wrong issuer or audience', async () => {
    await expectRefused(await forge({ iss: 'https://evil.example' }));
    await expectRefused(await forge({ aud: 'some-other-api' }));
  });

  it('refuses an expired token and one not yet valid', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(await forge({ iat: now - 7200, nbf: now - 7200, exp: now - 3600 }));
    await expectRefused(await forge({ nbf: now + 3600 }));
  });

  it('refuses a token that never expires, or says nothing of when it was issued (RFC 8725)', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(await forge({ exp: undefined }));
    await expectRefused(await forge({ iat: undefined }));
    await expectRefused(await forge({ exp: undefined, iat: undefined }));
    await expectRefused(await forge({ exp: String(now + 600) }));
    await expectRefused(await forge({ exp: now + 600.5 }));
  });

  it('refuses a token whose header names a critical extension it does not understand (RFC 7515)', async () => {
    // signed by hand: jose will not even sign a header it would not accept
    const signed = (header: Record<string, unknown>) => {
      const input = `${b64({ alg: 'ES256', typ: 'at+jwt', kid: signingKey.kid, ...header })}.${userToken.split('.')[1]}`;
      const signature = sign('sha256', Buffer.from(input), {
        key: KeyObject.from(signingKey.key as Parameters<typeof KeyObject.from>[0]),
        dsaEncoding: 'ieee-p1363',
      });
      return `${input}.${signature.toString('base64url')}`;
    };
    // the hand-made signature itself is accepted, so the refusals below are about crit
    expect((await get(`/v1/tenants/${tenantA.id}`, signed({}))).status).toBe(200);
    await expectRefused(
      signed({ crit: ['urn:example:must-check'], 'urn:example:must-check': true }),
    );
    await expectRefused(signed({ crit: [] }));
    await expectRefused(signed({ crit: 'urn:example:must-check' }));
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const [header, payload, signature] = userToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const promoted = b64({ ...claims, roles: ['platform-admin'], perms: ['manage:all:platform'] });
    await expectRefused(`${header}.${promoted}.${signature}`);
    expect(decodeProtectedHeader(userToken).alg).toBe('ES256');
  });

  it("refuses tenant A's token on tenant B's resources, and logs the attempt", async () => {
    const response = await get(`/v1/tenants/${tenantB.id}`, userToken);
    expect(response.status).toBe(403);
    expect((await response.json()).code).toBe('FORBIDDEN');
    const patch = await platform.call(`/v1/tenants/${tenantB.id}`, {
      method: 'PATCH',
      token: userToken,
      json: { name: 'hijacked' },
    });
    expect(patch.status).toBe(403);
    const usage = await get(`/v1/tenants/${tenantB.id}/usage`, userToken);
    expect(usage.status).toBe(403);
    // the same user on its own tenant is fine
    expect((await get(`/v1/tenants/${tenantA.id}/usage`, userToken)).status).toBe(200);
    // services write their log lines in batches, at the latest a tenth of a second later
    await eventually(() =>
      expect(
        platform.logs.some((l) => l.includes('permission denied') && l.includes(tenantB.id)),
      ).toBe(true),
    );
  });

  it('stops honouring a revoked API key within seconds', async () => {
    const created = await platform.call('/v1/api-keys', {
      method: 'POST',
      token: userToken,
      json: { name: 'ci', permissions: ['read:Tenant:tenant'] },
    });
    expect(created.status).toBe(201);
    const { key, apiKey } = await created.json();
    expect(key).toMatch(/^lat_[a-z0-9]{12}_/);
    expect((await get(`/v1/tenants/${tenantA.id}`, key)).status).toBe(200);
    // scoped: the key reads the tenant but may not do what its owner could
    expect((await get('/v1/users', key)).status).toBe(403);
    const listed = await (await get('/v1/api-keys', userToken)).json();
    expect(JSON.stringify(listed)).not.toContain(key.slice(`lat_${apiKey.prefix}_`.length));

    const revoked = await platform.call(`/v1/api-keys/${apiKey.id}`, {
      method: 'DELETE',
      token: userToken,
    });
    expect(revoked.status).toBe(200);
    await eventually(
      async () => expect((await get(`/v1/tenants/${tenantA.id}`, key)).status).toBe(401),
      {
        timeoutMs: 5_000,
      },
    );
    // a made-up key of the right shape, and a key with its secret changed, get the same answer
    const [, prefix] = key.split('_');
    expect((await get(`/v1/tenants/${tenantA.id}`, `lat_${prefix}_${'A'.repeat(43)}`)).status).toBe(
      401,
    );
    expect(
      (await get(`/v1/tenants/${tenantA.id}`, 'lat_000000000000_' + 'B'.repeat(43))).status,
    ).toBe(401);
  });

  it("shuts out a suspended tenant's tokens and keys at once, and lets them back in on reactivation", async () => {
    const t = await tenant();
    const token = await userIn(t, ['tenant-admin']);
    const created = await platform.call('/v1/api-keys', {
      method: 'POST',
      token,
      json: { name: 'ci', permissions: ['read:Tenant:tenant'] },
    });
    const { key } = await created.json();
    for (const credential of [token, key])
      expect((await get(`/v1/tenants/${t.id}`, credential)).status).toBe(200);

    const suspended = await platform.call(`/v1/tenants/${t.id}/suspend`, { method: 'POST' });
    expect(suspended.status).toBe(200);
    // the very next request is refused: no waiting for an event to reach the gateway
    for (const credential of [token, key]) {
      const response = await get(`/v1/tenants/${t.id}`, credential);
      expect(response.status).toBe(403);
      const refused = await response.json();
      expect(refused).toMatchObject({ code: 'FORBIDDEN', detail: 'the tenant is suspended' });
    }
    // platform operators still reach it
    expect((await platform.call(`/v1/tenants/${t.id}`)).status).toBe(200);

    await platform.call(`/v1/tenants/${t.id}/reactivate`, { method: 'POST' });
    for (const credential of [token, key])
      await eventually(async () =>
        expect((await get(`/v1/tenants/${t.id}`, credential)).status).toBe(200),
      );
  });

  it('keeps old tokens valid after key rotation, and signs new ones with the new key', async () => {
    // a token of the old key the gateway has never seen, so no verified-token cache helps it
    const unseen = await userIn(tenantA, ['viewer']);
    const rotated = await platform.call('/v1/auth/signing-keys/rotate', { method: 'POST' });
    expect(rotated.status).toBe(200);
    const { kid } = await rotated.json();
    expect(kid).not.toBe(signingKey.kid);
    // the new kid is unknown to the gateway: it fetches the key set again...
    const fresh = await userIn(tenantA, ['viewer']);
    expect(decodeProtectedHeader(fresh).kid).toBe(kid);
    expect((await get(`/v1/tenants/${tenantA.id}`, fresh)).status).toBe(200);
    // ...and the set it now holds still verifies the old key's tokens
    expect(decodeProtectedHeader(unseen).kid).toBe(signingKey.kid);
    expect((await get(`/v1/tenants/${tenantA.id}`, unseen)).status).toBe(200);
    const jwks = await (await platform.call('/.well-known/jwks.json', { auth: false })).json();
    expect(jwks.keys.map((k: JWK) => k.kid).sort()).toEqual([kid, signingKey.kid].sort());
    expect(JSON.stringify(jwks)).not.toMatch(/"d":/);
  });

  it('refuses a tenant user rotation of the platform keys', async () => {
    const response = await platform.call('/v1/auth/signing-keys/rotate', {
      method: 'POST',
      token: userToken,
    });
    expect(response.status).toBe(403);
  });
});
