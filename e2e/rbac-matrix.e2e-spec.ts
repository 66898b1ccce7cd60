import { randomUUID } from 'node:crypto';
import { startE2EPlatform, type E2EPlatform } from './support/platform.harness';

jest.setTimeout(120_000);

const PLATFORM_ROLES = ['platform-admin', 'platform-operator'] as const;
const TENANT_ROLES = [
  'tenant-owner',
  'tenant-admin',
  'developer',
  'analyst',
  'viewer',
  'billing',
  'auditor',
  'service-account',
] as const;
type Role = (typeof PLATFORM_ROLES)[number] | (typeof TENANT_ROLES)[number];
const ALL: Role[] = [...PLATFORM_ROLES, ...TENANT_ROLES];

interface Probe {
  name: string;
  method: string;
  path: (ids: { own: string; other: string }) => string;
  /** Bodies are empty or invalid on purpose: a permitted call ends in 400, never in a write. */
  json?: unknown;
  allowed: Role[];
}

const some = randomUUID();
/**
 * Who may call what, written out from the role definitions: each route either lets a role
 * through (whatever the service then answers) or refuses it with 403 at the gateway.
 */
const PROBES: Probe[] = [
  {
    name: 'create a tenant',
    method: 'POST',
    path: () => '/v1/tenants',
    json: {},
    allowed: ['platform-admin'],
  },
  { name: 'list tenants', method: 'GET', path: () => '/v1/tenants', allowed: ALL },
  { name: 'read its tenant', method: 'GET', path: (t) => `/v1/tenants/${t.own}`, allowed: ALL },
  {
    name: 'read another tenant',
    method: 'GET',
    path: (t) => `/v1/tenants/${t.other}`,
    allowed: ['platform-admin', 'platform-operator'],
  },
  {
    name: 'rename its tenant',
    method: 'PATCH',
    path: (t) => `/v1/tenants/${t.own}`,
    json: { name: '' },
    allowed: ['platform-admin', 'platform-operator', 'tenant-owner', 'tenant-admin', 'billing'],
  },
  {
    name: 'suspend a tenant',
    method: 'POST',
    path: () => `/v1/tenants/${some}/suspend`,
    allowed: ['platform-admin', 'platform-operator'],
  },
  {
    name: 'read its usage',
    method: 'GET',
    path: (t) => `/v1/tenants/${t.own}/usage`,
    allowed: [
      'platform-admin',
      'platform-operator',
      'tenant-owner',
      'tenant-admin',
      'developer',
      'analyst',
      'billing',
    ],
  },
  {
    name: 'create a user',
    method: 'POST',
    path: () => '/v1/users',
    json: {},
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin'],
  },
  {
    name: 'list users',
    method: 'GET',
    path: () => '/v1/users',
    allowed: [
      'platform-admin',
      'platform-operator',
      'tenant-owner',
      'tenant-admin',
      'developer',
      'viewer',
      'auditor',
    ],
  },
  {
    name: 'disable a user',
    method: 'POST',
    path: () => `/v1/users/${some}/disable`,
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin'],
  },
  {
    name: 'list roles',
    method: 'GET',
    path: () => '/v1/roles',
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin', 'auditor'],
  },
  {
    name: 'define a role',
    method: 'POST',
    path: () => '/v1/roles',
    json: {},
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin'],
  },
  {
    name: 'delete a role',
    method: 'DELETE',
    path: () => '/v1/roles/no-such-role',
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin'],
  },
  {
    name: 'grant a role',
    method: 'POST',
    path: () => '/v1/role-bindings',
    json: {},
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin'],
  },
  {
    name: 'create a service account',
    method: 'POST',
    path: () => '/v1/service-accounts',
    json: {},
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin'],
  },
  {
    name: 'list service accounts',
    method: 'GET',
    path: () => '/v1/service-accounts',
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin', 'auditor'],
  },
  {
    name: 'create an API key',
    method: 'POST',
    path: () => '/v1/api-keys',
    json: {},
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin', 'developer'],
  },
  {
    name: 'list API keys',
    method: 'GET',
    path: () => '/v1/api-keys',
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin', 'developer', 'auditor'],
  },
  {
    name: 'revoke an API key',
    method: 'DELETE',
    path: () => `/v1/api-keys/${some}`,
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin', 'developer'],
  },
  { name: 'say who it is', method: 'GET', path: () => '/v1/auth/me', allowed: ALL },
  {
    name: 'rotate the signing keys',
    method: 'POST',
    path: () => '/v1/auth/signing-keys/rotate',
    allowed: ['platform-admin'],
  },
  {
    name: 'delete its tenant',
    method: 'DELETE',
    path: (t) => `/v1/tenants/${t.own}`,
    allowed: ['platform-admin', 'tenant-owner'],
  },
];

describe('every role on every route', () => {
  let platform: E2EPlatform;
  const tokens = new Map<Role, string>();
  const ids = { own: '', other: '' };
  const password = 'a-password-long-enough';

  async function tenant(plan = 'enterprise') {
    const slug = `rbac-${randomUUID().slice(0, 8)}`;
    const response = await platform.call('/v1/tenants', {
      method: 'POST',
      json: { slug, name: slug, plan },
    });
    expect(response.status).toBe(201);
    return { id: (await response.json()).id as string, slug };
  }

  async function member(t: { id: string; slug: string }, role: string): Promise<string> {
    const email = `${role}-${randomUUID().slice(0, 6)}@example.com`;
    const created = await platform.call('/v1/users', {
      method: 'POST',
      json: { tenantId: t.id, email, password, roles: [role] },
    });
    expect(created.status).toBe(201);
    return (await platform.login(t.slug, email, password)).accessToken;
  }

  beforeAll(async () => {
    platform = await startE2EPlatform();
    const own = await tenant();
    const other = await tenant();
    ids.own = own.id;
    ids.other = other.id;
    const platformTenant = { id: '00000000-0000-0000-0000-000000000000', slug: 'platform' };
    for (const role of PLATFORM_ROLES) tokens.set(role, await member(platformTenant, role));
    for (const role of TENANT_ROLES) tokens.set(role, await member(own, role));
  });
  afterAll(() => platform?.stop());

  it('lets through exactly the roles that hold the permission, and refuses the rest with 403', async () => {
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const probe of PROBES) {
      // the platform admin goes last on destructive routes, after every role has been tried
      for (const role of [...ALL.filter((r) => r !== 'platform-admin'), 'platform-admin' as Role]) {
        const response = await platform.call(probe.path(ids), {
          method: probe.method,
          token: tokens.get(role),
          ...(probe.json !== undefined ? { json: probe.json } : {}),
        });
        expect(response.status).not.toBe(401);
        outcomes.push(`${role} ${probe.name}: ${response.status === 403 ? 'denied' : 'allowed'}`);
        expected.push(
          `${role} ${probe.name}: ${probe.allowed.includes(role) ? 'allowed' : 'denied'}`,
        );
      }
    }
    expect(outcomes).toEqual(expected);
  });

  it('declares a permission, or says it is public, on every route of the API', async () => {
    const doc = await (await platform.call('/docs/json', { auth: false })).json();
    const undeclared: string[] = [];
    for (const [path, operations] of Object.entries(
      doc.paths as Record<string, Record<string, Record<string, unknown>>>,
    )) {
      // the API itself; health and metrics belong to every service and are public by design
      if (!path.startsWith('/v1') && !path.startsWith('/.well-known')) continue;
      for (const [method, operation] of Object.entries(operations)) {
        if (!operation['x-lattice-permission']) undeclared.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(undeclared).toEqual([]);
  });

  it("holds a tenant to its plan's requests per minute, with RateLimit headers and Retry-After", async () => {
    const starter = await tenant('starter');
    const token = await member(starter, 'viewer');
    let last: Response | undefined;
    for (let i = 1; i <= 60; i++) {
      last = await platform.call(`/v1/tenants/${starter.id}`, { token });
      expect(last.status).toBe(200);
    }
    expect(last!.headers.get('ratelimit-limit')).toBe('60');
    expect(last!.headers.get('ratelimit-remaining')).toBe('0');
    const refused = await platform.call(`/v1/tenants/${starter.id}`, { token });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await refused.json()).code).toBe('RATE_LIMITED');
    // another tenant is not held back by this one's traffic
    expect((await platform.call(`/v1/tenants/${ids.other}`)).status).not.toBe(429);
  });
});
