import { DomainError, ErrorCode } from '@lattice/contracts';
import { describeRoute, outcomeOf, statusOfError } from './audit-trail';

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
});
