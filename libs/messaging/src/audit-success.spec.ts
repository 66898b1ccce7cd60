import type { RequestContext } from '@lattice/request-context';
import { auditSuccess } from './audit-success';

const TENANT = '7d1e1c1a-9a57-4cd1-8f0e-6b0b0b0b0b0b';

describe(auditSuccess.name, () => {
  it('records the caller, its request and a success around what was done', () => {
    const ctx: RequestContext = {
      tenantId: TENANT,
      actor: { type: 'api-key', id: 'k1', ownerId: 'u1', roles: ['developer'] },
      requestId: 'r1',
    };
    expect(
      auditSuccess(ctx, {
        tenantId: TENANT,
        action: 'user.create',
        resource: { type: 'User', id: 'u2' },
        metadata: { roles: ['viewer'] },
        subjectId: 'u2',
      }),
    ).toEqual({
      tenantId: TENANT,
      actor: { type: 'api-key', id: 'k1', ownerId: 'u1', roles: ['developer'] },
      action: 'user.create',
      resource: { type: 'User', id: 'u2' },
      outcome: 'success',
      requestId: 'r1',
      metadata: { roles: ['viewer'] },
      subjectId: 'u2',
    });
  });
});
