import { randomUUID } from 'node:crypto';
import { startE2EPlatform, type E2EPlatform } from './support/platform.harness';
import { expectProblem, expectProblems, type ProblemCase } from './support/problem';

jest.setTimeout(60_000);

describe('tenants API through the gateway', () => {
  let platform: E2EPlatform;
  const slug = () => `e2e-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    platform = await startE2EPlatform();
  });
  afterAll(async () => {
    if (process.env.E2E_DUMP_LOGS)
      console.log(platform.logs.filter((l) => /error|warn|fatal/.test(l)).join('\n'));
    await platform?.stop();
  });

  async function createTenant(body: Record<string, unknown> = {}) {
    const response = await platform.call('/v1/tenants', {
      method: 'POST',
      json: { slug: slug(), name: 'E2E', ...body },
    });
    expect(response.status).toBe(201);
    return (await response.json()) as { id: string; slug: string; name: string; version: number };
  }

  it('creates a tenant over HTTP and reads it back, through NATS and PostgreSQL', async () => {
    const response = await platform.call('/v1/tenants', {
      method: 'POST',
      json: { slug: 'round-trip', name: 'Round Trip', plan: 'professional' },
    });
    expect(response.status).toBe(201);
    const created = await response.json();
    expect(response.headers.get('location')).toBe(`/v1/tenants/${created.id}`);
    const fetched = await platform.call(`/v1/tenants/${created.id}`);
    expect(fetched.status).toBe(200);
    expect(await fetched.json()).toEqual(created);
    const bySlug = await platform.call('/v1/tenants/by-slug/round-trip');
    expect((await bySlug.json()).id).toBe(created.id);
    const listed = await (await platform.call('/v1/tenants?slug=round-trip')).json();
    expect(listed.items.map((t: { id: string }) => t.id)).toEqual([created.id]);
  });

  it('echoes a sane request id and replaces one that is not', async () => {
    const kept = await platform.call('/v1/tenants?limit=1', {
      headers: { 'x-request-id': 'client-req-42' },
    });
    expect(kept.headers.get('x-request-id')).toBe('client-req-42');
    const replaced = await platform.call('/v1/tenants?limit=1', {
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('shows a change at once even though reads are cached', async () => {
    const tenant = await createTenant();
    const first = await (await platform.call(`/v1/tenants/${tenant.id}`)).json();
    expect(first).toMatchObject({ name: 'E2E' });
    const patched = await platform.call(`/v1/tenants/${tenant.id}`, {
      method: 'PATCH',
      json: { name: 'Renamed' },
    });
    expect(patched.status).toBe(200);
    expect((await (await platform.call(`/v1/tenants/${tenant.id}`)).json()).name).toBe('Renamed');
    expect((await (await platform.call(`/v1/tenants/${tenant.id}`)).json()).name).toBe('Renamed');
    const metrics = await (await platform.call('/metrics', { auth: false })).text();
    expect(metrics).toMatch(/lattice_gateway_tenant_cache_lookups_total\{result="hit"\} [1-9]/);
  });

  it('walks a tenant through suspend, reactivate and delete', async () => {
    const tenant = await createTenant();
    expect(
      (await (await platform.call(`/v1/tenants/${tenant.id}/suspend`, { method: 'POST' })).json())
        .status,
    ).toBe('suspended');
    expect((await (await platform.call(`/v1/tenants/${tenant.id}`)).json()).status).toBe(
      'suspended',
    );
    expect(
      (
        await (
          await platform.call(`/v1/tenants/${tenant.id}/reactivate`, { method: 'POST' })
        ).json()
      ).status,
    ).toBe('active');
    const deleted = await platform.call(`/v1/tenants/${tenant.id}`, { method: 'DELETE' });
    expect((await deleted.json()).status).toBe('deleted');
    await expectProblem(
      await platform.call(`/v1/tenants/${tenant.id}`, { method: 'PATCH', json: { name: 'x' } }),
      409,
      'INVALID_STATE',
    );
    const usage = await platform.call(`/v1/tenants/${tenant.id}/usage`);
    expect(usage.status).toBe(200);
    expect((await usage.json()).usage.map((u: { resource: string }) => u.resource).sort()).toEqual([
      'gpuSeconds',
      'storageBytes',
      'tokens',
    ]);
  });

  it('answers a taken slug with 409 and an unknown tenant with 404', async () => {
    const tenant = await createTenant();
    await expectProblem(
      await platform.call('/v1/tenants', {
        method: 'POST',
        json: { slug: tenant.slug, name: 'Again' },
      }),
      409,
      'CONFLICT',
    );
    await expectProblem(await platform.call(`/v1/tenants/${randomUUID()}`), 404, 'NOT_FOUND');
    await expectProblem(await platform.call('/v1/no-such-route'), 404, 'NOT_FOUND');
  });

  it('answers malformed, oversized and wrong-typed input on every route with a 4xx problem and writes nothing', async () => {
    const tenant = await createTenant();
    const id = tenant.id;
    // just past the gateway's 1 MiB limit
    const huge = JSON.stringify({ slug: slug(), name: 'x'.repeat(1024 * 1024 + 16 * 1024) });
    const bigSettings = {
      settings: Object.fromEntries(
        Array.from({ length: 400 }, (_, i) => [`k${i}`, 'v'.repeat(50)]),
      ),
    };
    const before = await (await platform.call('/v1/tenants?limit=100')).json();

    const cases: ProblemCase[] = [
      [
        'POST',
        '/v1/tenants',
        { body: '{"slug":', headers: { 'content-type': 'application/json' } },
        400,
        'VALIDATION_FAILED',
      ],
      ['POST', '/v1/tenants', { json: { slug: 42, name: ['a'] } }, 400, 'VALIDATION_FAILED'],
      ['POST', '/v1/tenants', { json: { slug: 'platform', name: 'A' } }, 400, 'VALIDATION_FAILED'],
      [
        'POST',
        '/v1/tenants',
        { json: { slug: slug(), name: 'A', plan: 'platinum' } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/v1/tenants',
        { json: { slug: slug(), name: 'A', isAdmin: true } },
        400,
        'VALIDATION_FAILED',
      ],
      ['POST', '/v1/tenants', { json: [{ slug: slug(), name: 'A' }] }, 400, 'VALIDATION_FAILED'],
      [
        // nested far deeper than any recursive validator's stack: refused, not a 500
        'POST',
        '/v1/tenants',
        {
          body: `{"slug":"${slug()}","name":"A","settings":{"a":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_001)}}`,
          headers: { 'content-type': 'application/json' },
        },
        400,
        'VALIDATION_FAILED',
      ],
      ['POST', '/v1/tenants', { json: { slug: slug(), name: '   ' } }, 400, 'VALIDATION_FAILED'],
      [
        'POST',
        '/v1/tenants',
        { json: { slug: slug(), name: 'A', ...bigSettings } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/v1/tenants',
        { body: huge, headers: { 'content-type': 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'POST',
        '/v1/tenants',
        { body: 'slug=a', headers: { 'content-type': 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['GET', '/v1/tenants?limit=abc', {}, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/tenants?limit=100000', {}, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/tenants?status=gone', {}, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/tenants?cursor=forged.cursor', {}, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/tenants?sort=name', {}, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/tenants/not-a-uuid', {}, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/tenants/by-slug/NOT%20A%20SLUG', {}, 400, 'VALIDATION_FAILED'],
      ['PATCH', `/v1/tenants/${id}`, { json: {} }, 400, 'VALIDATION_FAILED'],
      ['PATCH', `/v1/tenants/${id}`, { json: { name: 5 } }, 400, 'VALIDATION_FAILED'],
      [
        'PATCH',
        `/v1/tenants/${id}`,
        { json: { quotaOverrides: { users: 3 } } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'PATCH',
        `/v1/tenants/${id}`,
        { json: { quotaOverrides: { users: -1 } } },
        400,
        'VALIDATION_FAILED',
      ],
      ['PATCH', `/v1/tenants/${id}`, { json: bigSettings }, 400, 'VALIDATION_FAILED'],
      [
        'PATCH',
        `/v1/tenants/${id}`,
        { body: huge, headers: { 'content-type': 'application/json' } },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'PATCH',
        `/v1/tenants/${id}`,
        { body: 'name=x', headers: { 'content-type': 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['PATCH', '/v1/tenants/123', { json: { name: 'x' } }, 400, 'VALIDATION_FAILED'],
      ['POST', '/v1/tenants/123/suspend', {}, 400, 'VALIDATION_FAILED'],
      ['POST', '/v1/tenants/123/reactivate', {}, 400, 'VALIDATION_FAILED'],
      ['DELETE', '/v1/tenants/123', {}, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/tenants/123/usage', {}, 400, 'VALIDATION_FAILED'],
    ];
    await expectProblems((path, init) => platform.call(path, init), cases);

    const after = await (await platform.call('/v1/tenants?limit=100')).json();
    expect(after.items).toEqual(before.items);
    expect((await (await platform.call(`/v1/tenants/${id}`)).json()).version).toBe(tenant.version);
  });

  it('refuses /v1 without the token and keeps health, metrics and docs public', async () => {
    const missing = await platform.call('/v1/tenants', { auth: false });
    await expectProblem(missing, 401, 'UNAUTHENTICATED');
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await expectProblem(
      await platform.call('/v1/tenants', {
        auth: false,
        headers: { authorization: 'Bearer wrong' },
      }),
      401,
      'UNAUTHENTICATED',
    );
    await expectProblem(
      await platform.call('/v1/tenants', {
        method: 'POST',
        auth: false,
        json: { slug: slug(), name: 'Sneaky' },
      }),
      401,
      'UNAUTHENTICATED',
    );
    for (const path of ['/livez', '/readyz', '/metrics', '/docs/json']) {
      expect((await platform.call(path, { auth: false })).status).toBe(200);
    }
    const ready = await (await platform.call('/readyz', { auth: false })).json();
    expect(ready.checks).toEqual({ nats: 'ok', tenants: 'ok', auth: 'ok', audit: 'ok' });
  });

  it('publishes an OpenAPI document generated from the validating schemas', async () => {
    const doc = await (await platform.call('/docs/json', { auth: false })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/tenants',
        '/v1/tenants/{id}',
        '/v1/tenants/by-slug/{slug}',
        '/v1/tenants/{id}/suspend',
        '/v1/tenants/{id}/usage',
      ]),
    );
    const createBody = doc.paths['/v1/tenants'].post.requestBody.content['application/json'].schema;
    expect(createBody.properties.plan.enum).toEqual([
      'free',
      'starter',
      'professional',
      'enterprise',
      'custom',
    ]);
    expect(createBody.properties.slug.pattern).toBeDefined();
    expect(createBody.additionalProperties).toBe(false);
    expect(
      doc.paths['/v1/tenants'].post.responses['409'].content['application/problem+json'],
    ).toBeDefined();
    const html = await platform.call('/docs', { auth: false });
    expect(html.status).toBe(200);
    expect(await html.text()).toMatch(/swagger/i);
  });
});
