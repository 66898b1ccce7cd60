import { randomUUID } from 'node:crypto';
import { eventually } from '@lattice/testing';
import { startE2EPlatform, type E2EPlatform, type E2EResponse } from './support/platform.harness';

jest.setTimeout(90_000);

interface EventView {
  id: string;
  seq: number;
  action: string;
  outcome: string;
  actor: { type: string; id: string | null };
  resource: { type: string; id?: string };
  sourceIp: string | null;
  metadata: Record<string, unknown>;
}

describe('audit API through the gateway', () => {
  let platform: E2EPlatform;

  beforeAll(async () => {
    platform = await startE2EPlatform();
  });
  afterAll(async () => {
    if (process.env.E2E_DUMP_LOGS)
      console.log(platform.logs.filter((l) => /error|warn|fatal/.test(l)).join('\n'));
    await platform?.stop();
  });

  const events = async (query = ''): Promise<EventView[]> => {
    const response = await platform.call(`/v1/audit-events?limit=100${query}`);
    expect(response.status).toBe(200);
    return (await response.json()).items;
  };

  async function expectProblem(response: E2EResponse, status: number, code: string) {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ status, code });
  }

  it('records every mutating call and every denial, and reads them back', async () => {
    const slug = `audit-${randomUUID().slice(0, 8)}`;
    const created = await platform.call('/v1/tenants', {
      method: 'POST',
      json: { slug, name: 'Audited' },
      headers: { 'user-agent': 'e2e-agent/1' },
    });
    expect(created.status).toBe(201);
    const tenant = await created.json();
    const refused = await platform.call('/v1/tenants', {
      method: 'POST',
      auth: false,
      json: { slug: `x-${slug}`, name: 'Sneaky' },
    });
    expect(refused.status).toBe(401);
    const invalid = await platform.call(`/v1/tenants/${tenant.id}`, {
      method: 'PATCH',
      json: { name: 5 },
    });
    expect(invalid.status).toBe(400);

    const trail = await eventually(async () => {
      const found = await events();
      expect(found.map((e) => `${e.action}:${e.outcome}`)).toEqual(
        expect.arrayContaining([
          'tenants.create:success',
          'tenants.create:denied',
          'tenants.update:error',
        ]),
      );
      return found;
    });
    const create = trail.find((e) => e.action === 'tenants.create' && e.outcome === 'success')!;
    expect(create).toMatchObject({
      actor: { type: 'user' },
      resource: { type: 'tenants' },
      metadata: { method: 'POST', status: 201 },
    });
    const denied = trail.find((e) => e.outcome === 'denied')!;
    expect(denied.actor.type).toBe('anonymous');
    expect(trail.find((e) => e.action === 'tenants.update')!.resource.id).toBe(tenant.id);
    // reads are not recorded, only changes and denials
    expect(trail.some((e) => e.action.endsWith('.read'))).toBe(false);

    const filtered = await events('&outcome=denied');
    expect(filtered.every((e) => e.outcome === 'denied')).toBe(true);
    expect(filtered.map((e) => e.id)).toContain(denied.id);

    const verified = await platform.call('/v1/audit-events/verify', { method: 'POST', json: {} });
    expect(verified.status).toBe(200);
    expect(await verified.json()).toMatchObject({ valid: true, firstBreak: null });
  });

  it('exports a range as NDJSON and as CSV, streamed', async () => {
    const listed = await eventually(async () => {
      const found = await events();
      expect(found.length).toBeGreaterThanOrEqual(3);
      return found;
    });
    const range = `from=2000-01-01T00:00:00Z&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`;

    const ndjson = await platform.call(`/v1/audit-events/export?format=ndjson&${range}`);
    expect(ndjson.status).toBe(200);
    expect(ndjson.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(ndjson.headers.get('content-disposition')).toMatch(/attachment; filename="audit-/);
    const lines = (await ndjson.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as EventView);
    const seqs = lines.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(lines.map((e) => e.id)).size).toBe(lines.length);
    for (const e of listed) expect(lines.map((l) => l.id)).toContain(e.id);

    const csv = await platform.call(`/v1/audit-events/export?format=csv&${range}`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = (await csv.text()).trim().split('\r\n');
    expect(rows[0]).toMatch(/^seq,id,tenantId,occurredAt/);
    expect(rows.length).toBeGreaterThanOrEqual(lines.length + 1);
  });

  it('records and lists consents, and answers subject access and erasure', async () => {
    const tenantId = randomUUID();
    const subjectId = `user-${randomUUID()}`;
    const consent = await platform.call('/v1/consents', {
      method: 'POST',
      json: { tenantId, subjectId, purpose: 'marketing.email', policyVersion: 'v1', granted: true },
    });
    expect(consent.status).toBe(201);
    const listed = await platform.call(`/v1/consents?tenantId=${tenantId}&subjectId=${subjectId}`);
    expect((await listed.json()).items).toMatchObject([{ subjectId, granted: true }]);

    const access = await platform.call('/v1/gdpr/subject-access', {
      method: 'POST',
      json: { tenantId, subjectId },
    });
    expect(access.status).toBe(200);
    const doc = await access.json();
    expect(doc).toMatchObject({ tenantId, subjectId });
    expect(doc.services.audit.consents).toHaveLength(1);

    const erased = await platform.call('/v1/gdpr/erasure', {
      method: 'POST',
      json: { tenantId, subjectId },
    });
    expect(erased.status).toBe(200);
    expect((await erased.json()).services).toEqual(
      expect.arrayContaining([{ service: 'audit', erased: 0 }]),
    );
    const after = await platform.call(`/v1/consents?tenantId=${tenantId}&subjectId=${subjectId}`);
    expect((await after.json()).items).toEqual([]);
  });

  it('answers bad input on every audit route with a 4xx problem and writes nothing', async () => {
    const tenantId = randomUUID();
    const subjectId = `user-${randomUUID()}`;
    const cases: [
      string,
      string,
      RequestInit & { json?: unknown; auth?: boolean },
      number,
      string,
    ][] = [
      ['GET', '/v1/audit-events?limit=0', {}, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/audit-events?outcome=maybe', {}, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/audit-events?from=yesterday', {}, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/audit-events?cursor=forged.cursor', {}, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/audit-events?tenantId=nope', {}, 400, 'VALIDATION_FAILED'],
      ['GET', '/v1/audit-events', { auth: false }, 401, 'UNAUTHENTICATED'],
      [
        'GET',
        '/v1/audit-events/export?format=xml&from=2031-01-01T00:00:00Z&to=2031-02-01T00:00:00Z',
        {},
        400,
        'VALIDATION_FAILED',
      ],
      ['GET', '/v1/audit-events/export?format=csv', {}, 400, 'VALIDATION_FAILED'],
      [
        'GET',
        '/v1/audit-events/export?from=2031-02-01T00:00:00Z&to=2031-01-01T00:00:00Z',
        {},
        400,
        'VALIDATION_FAILED',
      ],
      ['POST', '/v1/audit-events/verify', { json: { tenantId: 7 } }, 400, 'VALIDATION_FAILED'],
      [
        'POST',
        '/v1/audit-events/verify',
        { body: 'x', headers: { 'content-type': 'text/plain' } },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['POST', '/v1/gdpr/subject-access', { json: { tenantId } }, 400, 'VALIDATION_FAILED'],
      [
        'POST',
        '/v1/gdpr/erasure',
        { json: { tenantId, subjectId, everything: true } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/v1/gdpr/erasure',
        { body: '{"subjectId":', headers: { 'content-type': 'application/json' } },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/v1/consents',
        {
          json: { tenantId, subjectId, purpose: 'Marketing!', policyVersion: 'v1', granted: true },
        },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/v1/consents',
        { json: { tenantId, subjectId, purpose: 'marketing', policyVersion: 'v1' } },
        400,
        'VALIDATION_FAILED',
      ],
      ['GET', '/v1/consents', {}, 400, 'VALIDATION_FAILED'],
    ];
    for (const [method, path, init, status, code] of cases) {
      try {
        await expectProblem(await platform.call(path, { method, ...init }), status, code);
      } catch (error) {
        throw new Error(`${method} ${path}: ${(error as Error).message}`);
      }
    }
    const consents = await platform.call(
      `/v1/consents?tenantId=${tenantId}&subjectId=${subjectId}`,
    );
    expect((await consents.json()).items).toEqual([]);
  });
});
