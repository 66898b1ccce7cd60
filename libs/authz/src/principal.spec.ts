import { randomUUID } from 'node:crypto';
import type { RequestContext } from '@lattice/request-context';
import { record } from './ability';
import { abilityOf } from './principal';

const TENANT_A = randomUUID();
const TENANT_B = randomUUID();

describe('abilityOf', () => {
  it('works out one ability for the requests of one caller, and answers as it did', () => {
    const actor = { type: 'user' as const, id: randomUUID(), roles: ['tenant-admin'] };
    const first: RequestContext = { tenantId: TENANT_A, actor, requestId: 'r-1' };
    const second: RequestContext = { tenantId: TENANT_A, actor, requestId: 'r-2' };
    expect(abilityOf(second)).toBe(abilityOf(first));
    expect(abilityOf(second).can('read', record('Tenant', { id: TENANT_A }))).toBe(true);
    expect(abilityOf(second).can('read', record('Tenant', { id: TENANT_B }))).toBe(false);
  });

  it('never lends one tenant’s ability to the same actor acting in another', () => {
    const actor = { type: 'user' as const, id: randomUUID(), roles: ['tenant-admin'] };
    expect(
      abilityOf({ tenantId: TENANT_A, actor, requestId: 'r-1' }).can(
        'read',
        record('Tenant', { id: TENANT_A }),
      ),
    ).toBe(true);
    const inB = abilityOf({ tenantId: TENANT_B, actor, requestId: 'r-2' });
    expect(inB.can('read', record('Tenant', { id: TENANT_A }))).toBe(false);
    expect(inB.can('read', record('Tenant', { id: TENANT_B }))).toBe(true);
  });

  it('works out each caller’s own ability: equal-looking actors with other roles differ', () => {
    const admin = { type: 'user' as const, id: 'u-1', roles: ['tenant-admin'] };
    const viewer = { type: 'user' as const, id: 'u-1', roles: ['viewer'] };
    const target = record('User', { id: 'u-2', tenantId: TENANT_A });
    expect(
      abilityOf({ tenantId: TENANT_A, actor: admin, requestId: 'r' }).can('update', target),
    ).toBe(true);
    expect(
      abilityOf({ tenantId: TENANT_A, actor: viewer, requestId: 'r' }).can('update', target),
    ).toBe(false);
  });
});
