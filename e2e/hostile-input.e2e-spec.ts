import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { eventually } from '@lattice/testing';
import {
  encodeParam,
  hostileBody,
  paramValue,
  type HostileBody,
  type JsonSchema,
  type ParamValue,
} from './support/hostile-arbitraries';
import { startE2EPlatform, type E2EPlatform } from './support/platform.harness';

jest.setTimeout(300_000);

/** Runs per operation; the whole document at this count takes well under a minute here. */
const RUNS = Number(process.env.HOSTILE_INPUT_RUNS ?? 8);
const SEED = Number(process.env.HOSTILE_INPUT_SEED ?? Math.floor(Math.random() * 2 ** 31));

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Calls the auth service records itself, naming the user; the gateway only their bad input. */
const RECORDED_BY_AUTH = new Set(['/v1/auth/login', '/v1/auth/refresh', '/v1/auth/logout']);

interface Operation {
  method: string;
  /** As the document names it: `/v1/tenants/{id}`. */
  path: string;
  parameters: { name: string; in: string; schema?: JsonSchema }[];
  body?: JsonSchema;
}

interface AuditEvent {
  requestId: string | null;
  action: string;
  outcome: string;
  resource: { type: string; id?: string };
  metadata: Record<string, unknown>;
}

interface Call {
  requestId: string;
  method: string;
  path: string;
  status: number;
  what: string;
}

/**
 * The audit events of the platform tenant's trail for each request id, once every one of
 * them has at least one (the trail is written behind the calls, through JetStream).
 */
async function auditEventsOf(
  platform: E2EPlatform,
  requestIds: string[],
  describe: (requestId: string) => string = (id) => id,
): Promise<Map<string, AuditEvent[]>> {
  const wanted = new Set(requestIds);
  return eventually(
    async () => {
      const byRequest = new Map<string, AuditEvent[]>();
      let cursor: string | null = null;
      do {
        const response = await platform.call(
          `/v1/audit-events?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        expect(response.status).toBe(200);
        const page = (await response.json()) as { items: AuditEvent[]; nextCursor: string | null };
        for (const event of page.items) {
          if (!event.requestId || !wanted.has(event.requestId)) continue;
          byRequest.set(event.requestId, [...(byRequest.get(event.requestId) ?? []), event]);
        }
        cursor = page.nextCursor;
      } while (cursor);
      expect(requestIds.filter((id) => !byRequest.has(id)).map(describe)).toEqual([]);
      return byRequest;
    },
    { timeoutMs: 30_000 },
  );
}

/**
 * Every operation of the OpenAPI document, driven with hostile input generated from the
 * document itself (so a new route is covered without a line here): no answer is a 5xx or a
 * dropped connection, a refused change leaves every list as it was, and every change and
 * denial leaves one event in the audit trail. The seed is printed; HOSTILE_INPUT_SEED replays it.
 */
describe('hostile input on every route of the API', () => {
  let platform: E2EPlatform;
  let operations: Operation[];
  const calls: Call[] = [];

  beforeAll(async () => {
    console.log(`hostile input: seed ${SEED}, ${RUNS} runs per operation`);
    platform = await startE2EPlatform();
    // the gateway has the signing keys once the admin's token is admitted
    await eventually(async () => expect((await platform.call('/v1/tenants')).status).toBe(200));
    const doc = (await (await platform.call('/docs/json', { auth: false })).json()) as {
      paths: Record<
        string,
        Record<
          string,
          {
            parameters?: Operation['parameters'];
            requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
          }
        >
      >;
    };
    operations = Object.entries(doc.paths).flatMap(([path, byMethod]) =>
      Object.entries(byMethod).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        body: op.requestBody?.content?.['application/json']?.schema,
      })),
    );
  });
  afterAll(async () => {
    if (process.env.E2E_DUMP_LOGS)
      console.log(platform.logs.filter((l) => /error|warn|fatal/.test(l)).join('\n'));
    await platform?.stop();
  });

  /** What a refused change must leave alone: everything the admin can list. */
  const LISTS = [
    '/v1/tenants?limit=100',
    '/v1/users?limit=100',
    '/v1/roles',
    '/v1/api-keys',
    '/v1/service-accounts',
  ];
  async function snapshot(): Promise<string[]> {
    const lists: string[] = [];
    for (const path of LISTS) {
      const response = await platform.call(path);
      expect(response.status).toBe(200);
      lists.push(await response.text());
    }
    return lists;
  }

  /** Who calls: mostly the platform admin, sometimes nobody or somebody with a forged token. */
  const credentials = fc.oneof(
    { weight: 8, arbitrary: fc.constant<{ auth?: boolean; token?: string }>({}) },
    { weight: 1, arbitrary: fc.constant({ auth: false }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        { token: 'eyJhbGciOiJub25lIn0.e30.' },
        { token: 'lat_000000000000_' + 'A'.repeat(43) },
        { token: 'x'.repeat(5_000) },
      ),
    },
  );

  function arbitraryCall(op: Operation) {
    const pathParams = op.parameters.filter((p) => p.in === 'path');
    const queryParams = op.parameters.filter((p) => p.in === 'query');
    return fc.record({
      path: fc.tuple(...pathParams.map((p) => paramValue(p.schema))),
      query: fc.tuple(
        ...queryParams.map((p) => fc.option(paramValue(p.schema), { nil: undefined })),
      ),
      unknownQuery: fc.option(paramValue(undefined), { nil: undefined }),
      body: MUTATING.has(op.method)
        ? fc.option(hostileBody(op.body), { nil: undefined, freq: 6 })
        : fc.constant(undefined),
      credentials,
    });
  }

  async function send(
    op: Operation,
    input: {
      path: ParamValue[];
      query: (ParamValue | undefined)[];
      unknownQuery?: ParamValue;
      body?: HostileBody;
      credentials: { auth?: boolean; token?: string };
    },
  ): Promise<Call> {
    const pathParams = op.parameters.filter((p) => p.in === 'path');
    const queryParams = op.parameters.filter((p) => p.in === 'query');
    let path = op.path;
    pathParams.forEach((p, i) => {
      const encoded = encodeParam(input.path[i]!) || '%20';
      path = path.replace(`{${p.name}}`, encoded);
    });
    const query = queryParams
      .map((p, i) => (input.query[i] ? `${p.name}=${encodeParam(input.query[i]!)}` : undefined))
      .filter(Boolean);
    if (input.unknownQuery) query.push(`unknown_param=${encodeParam(input.unknownQuery)}`);
    const url = query.length > 0 ? `${path}?${query.join('&')}` : path;
    const requestId = `fuzz-${randomUUID()}`;
    const what = `${op.method} ${url.slice(0, 300)} body ${input.body?.kind ?? 'none'} (${String(
      input.body?.body ?? '',
    ).slice(0, 200)})`;
    let response: Response;
    try {
      response = await platform.call(url, {
        method: op.method,
        ...input.credentials,
        headers: {
          'x-request-id': requestId,
          ...(input.body ? { 'content-type': input.body.contentType } : {}),
        },
        ...(input.body ? { body: input.body.body } : {}),
      });
    } catch (error) {
      throw new Error(`${what}: no answer (${(error as Error).message})`);
    }
    const text = await response.text();
    if (response.status >= 500) throw new Error(`${what}: ${response.status} ${text}`);
    if (
      response.status >= 400 &&
      !(
        /^application\/problem\+json/.test(response.headers.get('content-type') ?? '') &&
        (JSON.parse(text) as { status?: number }).status === response.status
      )
    )
      throw new Error(`${what}: ${response.status} is not a problem: ${text.slice(0, 300)}`);
    return {
      requestId,
      method: op.method,
      path: op.path,
      status: response.status,
      what,
    };
  }

  /** A call with its own request id, answered as a problem naming the field, if one is given. */
  async function refused(
    method: string,
    path: string,
    json: unknown,
    field?: string,
  ): Promise<string> {
    const requestId = `regression-${randomUUID()}`;
    const response = await platform.call(path, {
      method,
      headers: { 'x-request-id': requestId },
      ...(json !== undefined ? { json } : {}),
    });
    const body = await response.json();
    expect({ call: `${method} ${path}`, status: response.status }).toEqual({
      call: `${method} ${path}`,
      status: 400,
    });
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(body).toMatchObject({ code: 'VALIDATION_FAILED', requestId });
    if (field) expect(body.errors).toContainEqual({ path: field, message: expect.any(String) });
    return requestId;
  }

  describe('the cases the outside tester found', () => {
    let tenant: { id: string; slug: string; name: string };

    beforeAll(async () => {
      const slug = `hostile-${randomUUID().slice(0, 8)}`;
      const created = await platform.call('/v1/tenants', {
        method: 'POST',
        json: { slug, name: 'Stays As It Is' },
      });
      expect(created.status).toBe(201);
      tenant = await created.json();
    });

    it('refuses NUL in text fields with a 400 naming the field, stores nothing, and records each call', async () => {
      const email = `nul-${randomUUID().slice(0, 8)}@example.com`;
      const role = `nul-${randomUUID().slice(0, 8)}`;
      const slug = `nul-${randomUUID().slice(0, 8)}`;
      const subjectId = `subject-${randomUUID()}`;
      const ids = [
        await refused(
          'POST',
          '/v1/users',
          {
            tenantId: tenant.id,
            email,
            password: 'a-password-long-enough',
            displayName: 'a\u0000b',
          },
          'displayName',
        ),
        await refused(
          'POST',
          '/v1/roles',
          { name: role, description: 'x\u0000', permissions: ['read:Tenant:tenant'] },
          'description',
        ),
        await refused('POST', '/v1/api-keys', { name: 'key\u0000' }, 'name'),
        await refused('POST', '/v1/tenants', { slug, name: 'n\u0000' }, 'name'),
        await refused('PATCH', `/v1/tenants/${tenant.id}`, { name: 'n\u0000' }, 'name'),
        await refused(
          'POST',
          '/v1/consents',
          {
            tenantId: tenant.id,
            subjectId,
            purpose: 'marketing.email',
            policyVersion: 'v\u0000',
            granted: true,
          },
          'policyVersion',
        ),
      ];
      const users = await (await platform.call(`/v1/users?tenantId=${tenant.id}&limit=100`)).json();
      expect(JSON.stringify(users)).not.toContain(email);
      const roles = await (await platform.call('/v1/roles')).json();
      expect(roles.items.map((r: { name: string }) => r.name)).not.toContain(role);
      const keys = await (await platform.call('/v1/api-keys')).json();
      expect(keys.items.some((k: { name: string }) => k.name.startsWith('key'))).toBe(false);
      expect((await platform.call(`/v1/tenants/by-slug/${slug}`)).status).toBe(404);
      expect((await (await platform.call(`/v1/tenants/${tenant.id}`)).json()).name).toBe(
        'Stays As It Is',
      );
      const consents = await platform.call(
        `/v1/consents?tenantId=${tenant.id}&subjectId=${subjectId}`,
      );
      expect((await consents.json()).items).toEqual([]);
      const events = await auditEventsOf(platform, ids);
      for (const id of ids)
        expect(events.get(id)).toContainEqual(
          expect.objectContaining({
            outcome: 'error',
            metadata: expect.objectContaining({ status: 400 }),
          }),
        );
    });

    it('refuses NUL in query parameters with a 400 naming the parameter', async () => {
      await refused('GET', '/v1/tenants?q=%00', undefined, 'q');
      for (const param of ['actorId', 'resourceType', 'resourceId'])
        await refused('GET', `/v1/audit-events?${param}=%00`, undefined, param);
    });

    it('records refused calls whose path or body carries NUL, with the odd id hashed', async () => {
      const byPath = [
        ['POST', '/v1/tenants/%00/reactivate'],
        ['POST', '/v1/tenants/%00/suspend'],
        ['DELETE', '/v1/tenants/%00'],
        ['DELETE', '/v1/api-keys/%00'],
        ['POST', '/v1/users/%00/disable'],
        ['POST', '/v1/users/%00/enable'],
      ] as const;
      const ids: string[] = [];
      for (const [method, path] of byPath) ids.push(await refused(method, path, undefined));
      const login = await refused(
        'POST',
        '/v1/auth/login',
        { tenant: '\u0000', email: 'someone@example.com', password: 'whatever-it-is' },
        'tenant',
      );
      const events = await auditEventsOf(platform, [...ids, login]);
      for (const id of ids) {
        expect(events.get(id)).toEqual([
          expect.objectContaining({
            outcome: 'error',
            resource: expect.objectContaining({
              id: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
            }),
          }),
        ]);
      }
      expect(events.get(login)).toEqual([
        expect.objectContaining({ action: 'auth.login', outcome: 'error' }),
      ]);
    });

    it('answers and records paths the router itself refuses: broken encoding, over-long ids', async () => {
      const ids = [
        await refused('DELETE', '/v1/api-keys/%zz', undefined),
        await refused('POST', '/v1/users/%E0%A4%A/disable', undefined),
        await refused('POST', `/v1/tenants/${'x'.repeat(500)}/suspend`, undefined),
      ];
      const events = await auditEventsOf(platform, ids);
      for (const id of ids)
        expect(events.get(id)).toEqual([
          expect.objectContaining({
            outcome: 'error',
            metadata: expect.objectContaining({ status: 400 }),
          }),
        ]);
    });

    it('refuses a body that is not UTF-8 instead of storing replacement characters', async () => {
      const requestId = `regression-${randomUUID()}`;
      const response = await platform.call(`/v1/tenants/${tenant.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', 'x-request-id': requestId },
        body: Buffer.concat([
          Buffer.from('{"name":"'),
          Buffer.from([0xff, 0xc0, 0xaf]),
          Buffer.from('"}'),
        ]),
      });
      expect(response.status).toBe(400);
      expect((await response.json()).code).toBe('VALIDATION_FAILED');
      const stored = await (await platform.call(`/v1/tenants/${tenant.id}`)).json();
      expect(stored.name).toBe('Stays As It Is');
      expect((await auditEventsOf(platform, [requestId])).get(requestId)).toHaveLength(1);
    });

    it('answers a body over the limit with a 413 problem every time, never a reset connection', async () => {
      const body = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });
      for (let i = 0; i < 10; i++) {
        const response = await platform.call('/v1/auth/logout', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        expect(response.status).toBe(413);
        expect((await response.json()).code).toBe('PAYLOAD_TOO_LARGE');
      }
    });

    it('refuses lone surrogates instead of storing replacement characters', async () => {
      const id = await refused(
        'PATCH',
        `/v1/tenants/${tenant.id}`,
        { name: '\udfff\ud800' },
        'name',
      );
      const stored = await (await platform.call(`/v1/tenants/${tenant.id}`)).json();
      expect(stored.name).toBe('Stays As It Is');
      expect((await auditEventsOf(platform, [id])).get(id)).toHaveLength(1);
    });
  });

  it('answers every operation with hostile input without a 5xx, a dropped connection or a partial write', async () => {
    expect(operations.length).toBeGreaterThan(30);
    for (const op of operations) {
      await fc.assert(
        fc.asyncProperty(arbitraryCall(op), async (input) => {
          const mutating = MUTATING.has(op.method);
          const before = mutating ? await snapshot() : undefined;
          const call = await send(op, input);
          calls.push(call);
          if (mutating && call.status >= 400) {
            const after = await snapshot();
            const changed = LISTS.filter((_, i) => after[i] !== before![i]);
            if (changed.length > 0)
              throw new Error(
                `${call.what}: refused with ${call.status}, yet ${changed.join(', ')} changed: ${before![LISTS.indexOf(changed[0]!)]!.slice(0, 600)} -> ${after[LISTS.indexOf(changed[0]!)]!.slice(0, 600)}`,
              );
          }
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
    }
    expect(calls.filter((c) => MUTATING.has(c.method)).length).toBeGreaterThan(0);
  });

  it('records every change and every denial it made, once', async () => {
    const expected = calls.filter(
      (c) => MUTATING.has(c.method) || c.status === 401 || c.status === 403,
    );
    const mutatingOperations = operations.filter((op) => MUTATING.has(op.method));
    expect(new Set(expected.map((c) => `${c.method} ${c.path}`)).size).toBeGreaterThanOrEqual(
      mutatingOperations.length,
    );
    const found = await auditEventsOf(
      platform,
      expected.map((c) => c.requestId),
      (id) => expected.find((c) => c.requestId === id)!.what,
    );
    // the gateway's own event (method and status in its metadata) is there exactly once;
    // services add events of their own
    const duplicated = expected
      .filter((c) => !RECORDED_BY_AUTH.has(c.path) || [400, 413, 415].includes(c.status))
      .filter(
        (c) =>
          found
            .get(c.requestId)!
            .filter((e) => e.metadata.method === c.method && e.metadata.status === c.status)
            .length !== 1,
      )
      .map((c) => c.what);
    expect(duplicated).toEqual([]);
  });
});
