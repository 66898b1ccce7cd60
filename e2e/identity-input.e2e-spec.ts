import { randomUUID } from 'node:crypto';
import { startE2EPlatform, type E2EPlatform } from './support/platform.harness';
import { expectProblems, type ProblemCase } from './support/problem';

jest.setTimeout(90_000);

/**
 * Malformed, oversized and wrong-typed input on the sign-in and identity routes (users, roles,
 * role bindings, service accounts, API keys): each answered with a 4xx problem, none writing.
 */
describe('identity routes given bad input', () => {
  let platform: E2EPlatform;
  let token: string;
  const password = 'a-password-long-enough';

  beforeAll(async () => {
    platform = await startE2EPlatform();
    const slug = `idin-${randomUUID().slice(0, 8)}`;
    const tenant = await platform.call('/v1/tenants', {
      method: 'POST',
      json: { slug, name: slug, plan: 'professional' },
    });
    const email = 'admin@identity-input.example.com';
    const created = await platform.call('/v1/users', {
      method: 'POST',
      json: { tenantId: (await tenant.json()).id, email, password, roles: ['tenant-admin'] },
    });
    expect(created.status).toBe(201);
    token = (await platform.login(slug, email, password)).accessToken;
  });
  afterAll(() => platform?.stop());

  /** Everything the tenant admin can see of the tenant's identities. */
  const snapshot = async () => {
    const lists = [];
    for (const path of ['/v1/users?limit=100', '/v1/roles', '/v1/service-accounts', '/v1/api-keys'])
      lists.push(await (await platform.call(path, { token })).json());
    return lists;
  };

  it('answers every case with a 4xx problem and writes nothing', async () => {
    const before = await snapshot();
    const json = { 'content-type': 'application/json' };
    const huge = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 1024) });
    const cases: ProblemCase[] = [
      ['POST', '/v1/auth/login', { body: '{"tenant":', headers: json }, 400, 'VALIDATION_FAILED'],
      [
        'POST',
        '/v1/auth/login',
        { json: { tenant: 1, email: [], password: {} } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/v1/auth/login',
        { json: { tenant: 'a', email: 'a@b.co' } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/v1/auth/login',
        { json: { tenant: 'a', email: 'a@b.co', password: 'p', sourceIp: '10.0.0.1' } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/v1/auth/login',
        { json: { tenant: 'a', email: 'a@b.co', password: 'p'.repeat(300) } },
        400,
        'VALIDATION_FAILED',
      ],
      ['POST', '/v1/auth/login', { body: huge, headers: json }, 413, 'PAYLOAD_TOO_LARGE'],
      [
        'POST',
        '/v1/auth/login',
        { body: 'tenant=a', headers: { 'content-type': 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['POST', '/v1/auth/refresh', { json: { refreshToken: 42 } }, 400, 'VALIDATION_FAILED'],
      [
        'POST',
        '/v1/auth/refresh',
        { json: { refreshToken: 'x'.repeat(600) } },
        400,
        'VALIDATION_FAILED',
      ],
      ['POST', '/v1/auth/logout', { json: {} }, 400, 'VALIDATION_FAILED'],
    ];
    const authed: ProblemCase[] = [
      [
        'POST',
        '/v1/users',
        { json: { email: 'not-an-email', password } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/v1/users',
        { json: { email: 'a@b.co', password: 'short' } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/v1/users',
        { json: { email: 'a@b.co', password, roles: 'developer' } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/v1/users',
        { json: { email: 'a@b.co', password, isAdmin: true } },
        400,
        'VALIDATION_FAILED',
      ],
      ['POST', '/v1/users', { body: huge, headers: json }, 413, 'PAYLOAD_TOO_LARGE'],
      ['GET', '/v1/users?limit=1000', {}, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/users/not-a-uuid', {}, 400, 'VALIDATION_FAILED'],
      ['POST', '/v1/users/not-a-uuid/disable', {}, 400, 'VALIDATION_FAILED'],
      ['POST', '/v1/users/not-a-uuid/enable', {}, 400, 'VALIDATION_FAILED'],
      [
        'POST',
        '/v1/roles',
        { json: { name: 'flyer', permissions: ['fly:Moon:tenant'] } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/v1/roles',
        { json: { name: 'flyer', permissions: 'read:Job:tenant' } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/v1/roles',
        { json: { name: 'x', permissions: ['read:Job:tenant'] } },
        400,
        'VALIDATION_FAILED',
      ],
      ['DELETE', `/v1/roles/${'r'.repeat(65)}`, {}, 400, 'VALIDATION_FAILED'],
      ['DELETE', '/v1/roles/Bad%20Name%00', {}, 400, 'VALIDATION_FAILED'],
      [
        'POST',
        '/v1/role-bindings',
        { json: { principalId: 'nope', role: '' } },
        400,
        'VALIDATION_FAILED',
      ],
      ['POST', '/v1/role-bindings/revoke', { json: {} }, 400, 'VALIDATION_FAILED'],
      ['POST', '/v1/service-accounts', { json: { name: 7 } }, 400, 'VALIDATION_FAILED'],
      [
        'POST',
        '/v1/service-accounts',
        { json: { name: 'worker', roles: [1] } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/v1/api-keys',
        { json: { name: '', expiresAt: 'tomorrow' } },
        400,
        'VALIDATION_FAILED',
      ],
      ['POST', '/v1/api-keys', { json: { name: 'k', permissions: [] } }, 400, 'VALIDATION_FAILED'],
      [
        'POST',
        '/v1/api-keys',
        { json: { name: 'k', serviceAccountId: 'x' } },
        400,
        'VALIDATION_FAILED',
      ],
      ['POST', '/v1/api-keys', { body: '[1,2', headers: json }, 400, 'VALIDATION_FAILED'],
      ['DELETE', '/v1/api-keys/not-a-uuid', {}, 400, 'VALIDATION_FAILED'],
    ];
    await expectProblems((path, init) => platform.call(path, { ...init, auth: false }), cases);
    await expectProblems((path, init) => platform.call(path, { ...init, token }), authed);
    expect(await snapshot()).toEqual(before);
  });
});
