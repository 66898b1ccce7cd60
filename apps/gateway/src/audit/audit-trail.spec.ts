import { DomainError, ErrorCode } from '@lattice/contracts';
import type { AuditRecord, AuditRecorder } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import {
  describeRoute,
  outcomeOf,
  recordRequest,
  statusOfError,
  type AuditedRequest,
} from './audit-trail';

/** What the gateway would record for one request, or null for nothing. */
function recorded(
  method: string,
  url: string,
  lattice?: RequestContext,
  status = 200,
): AuditRecord | null {
  const records: AuditRecord[] = [];
  const recorder = { record: (r: AuditRecord) => void records.push(r) } as unknown as AuditRecorder;
  const request = {
    method,
    routeOptions: { url },
    params: {},
    headers: { 'user-agent': 'AliceBrowser/7.1' },
    ip: '198.51.100.23',
    id: 'req-1',
    lattice,
  } as unknown as AuditedRequest;
  recordRequest(recorder, request, status);
  recordRequest(recorder, request, status);
  expect(records.length).toBeLessThanOrEqual(1);
  return records[0] ?? null;
}

describe('gateway audit trail', () => {
  it.each([
    ['POST', '/v1/tenants', 'tenants.create', {}, { type: 'tenants' }],
    ['PATCH', '/v1/tenants/:id', 'tenants.update', { id: 't-1' }, { type: 'tenants', id: 't-1' }],
    ['DELETE', '/v1/tenants/:id', 'tenants.delete', { id: 't-1' }, { type: 'tenants', id: 't-1' }],
    [
      'POST',
      '/v1/tenants/:id/suspend',
      'tenants.suspend',
      { id: 't-1' },
      { type: 'tenants', id: 't-1' },
    ],
    ['POST', '/v1/audit-events/verify', 'audit-events.verify', {}, { type: 'audit-events' }],
    ['GET', '/v1/tenants/by-slug/:slug', 'tenants.by-slug', { slug: 'acme' }, { type: 'tenants' }],
    ['POST', undefined, 'http.post', undefined, { type: 'route' }],
  ] as const)('names %s %s as %s', (method, route, action, params, resource) => {
    expect(describeRoute(method, route, params)).toEqual({ action, resource });
  });

  it('gives every route an action the audit contract accepts', () => {
    const { action } = describeRoute('POST', '/v1/Weird_Path/:id/Do Thing', { id: 'x' });
    expect(action).toMatch(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/);
  });

  it('calls 401 and 403 denials, other failures errors', () => {
    expect([200, 201, 204, 401, 403, 400, 404, 500].map(outcomeOf)).toEqual([
      'success',
      'success',
      'success',
      'denied',
      'denied',
      'error',
      'error',
      'error',
    ]);
    expect(statusOfError(new DomainError(ErrorCode.Forbidden, 'no'))).toBe(403);
    expect(statusOfError(new DomainError(ErrorCode.NotFound, 'no'))).toBe(404);
    expect(statusOfError(new Error('boom'))).toBe(500);
  });

  it('keeps the address and browser of a known caller, for the audit trail to seal', () => {
    const alice: RequestContext = {
      tenantId: '6f1c3d52-3f0a-4a8e-9d0a-1b2c3d4e5f60',
      actor: { type: 'user', id: 'alice', roles: ['developer'] },
      requestId: 'req-1',
    };
    expect(recorded('POST', '/v1/api-keys', alice)).toMatchObject({
      actor: { type: 'user', id: 'alice' },
      sourceIp: '198.51.100.23',
      userAgent: 'AliceBrowser/7.1',
    });
  });

  it('leaves out the address and browser of an anonymous caller, which nothing could seal', () => {
    const denied = recorded('POST', '/v1/tenants', undefined, 401)!;
    expect(denied).toMatchObject({ actor: { type: 'anonymous' }, outcome: 'denied' });
    expect(denied).not.toHaveProperty('sourceIp');
    expect(denied).not.toHaveProperty('userAgent');
  });

  it.each(['/v1/auth/login', '/v1/auth/refresh', '/v1/auth/logout'])(
    'leaves %s to the auth service, which records it with the user it identified',
    (url) => {
      expect(recorded('POST', url, undefined, 200)).toBeNull();
      expect(recorded('POST', url, undefined, 401)).toBeNull();
    },
  );

  it.each(['/v1/auth/login', '/v1/auth/refresh', '/v1/auth/logout'])(
    'records a refused %s that never reached the auth service, without address or browser',
    (url) => {
      for (const status of [400, 413, 415]) {
        const refused = recorded('POST', url, undefined, status)!;
        expect(refused).toMatchObject({ actor: { type: 'anonymous' }, outcome: 'error' });
        expect(refused).not.toHaveProperty('sourceIp');
      }
    },
  );

  it('keeps an id the trail cannot store as it is, for the recorder to hash', () => {
    const id = '\u0000'.repeat(300);
    expect(describeRoute('POST', '/v1/tenants/:id/reactivate', { id }).resource).toEqual({
      type: 'tenants',
      id,
    });
  });
});
