import { randomUUID } from 'node:crypto';
import { PLATFORM_TENANT_ID } from '@lattice/contracts';
import { abilityFor, authorize, notCovered, record, type Principal } from './ability';
import { permissionsOf } from './role-resolution';
import { SYSTEM_ROLES } from './system-roles';

const TENANT_A = randomUUID();
const TENANT_B = randomUUID();

const principal = (roles: string[], tenantId = TENANT_A, actorId = 'u-1'): Principal => ({
  tenantId,
  actorId,
  permissions: permissionsOf(roles, { platformTenant: tenantId === PLATFORM_TENANT_ID }),
});

describe('abilityFor', () => {
  it('lets a tenant admin manage users of its own tenant only', () => {
    const ability = abilityFor(principal(['tenant-admin']));
    expect(ability.can('update', record('User', { id: 'u-2', tenantId: TENANT_A }))).toBe(true);
    expect(ability.can('update', record('User', { id: 'u-2', tenantId: TENANT_B }))).toBe(false);
    expect(ability.can('read', record('Tenant', { id: TENANT_A }))).toBe(true);
    expect(ability.can('read', record('Tenant', { id: TENANT_B }))).toBe(false);
    expect(ability.can('delete', record('Tenant', { id: TENANT_A }))).toBe(false);
  });

  it('limits own-scope permissions to records the principal owns', () => {
    const ability = abilityFor(principal(['developer'], TENANT_A, 'dev-1'));
    const mine = record('ApiKey', { tenantId: TENANT_A, ownerId: 'dev-1' });
    const theirs = record('ApiKey', { tenantId: TENANT_A, ownerId: 'dev-2' });
    expect(ability.can('delete', mine)).toBe(true);
    expect(ability.can('delete', theirs)).toBe(false);
    // "can read some jobs" is not "can read this job"
    expect(ability.can('update', 'Job')).toBe(true);
    expect(ability.can('update', record('Job', { tenantId: TENANT_A, ownerId: 'dev-2' }))).toBe(
      false,
    );
  });

  it('gives platform roles their reach only inside the platform tenant', () => {
    const operator = abilityFor(principal(['platform-admin'], PLATFORM_TENANT_ID));
    expect(operator.can('delete', record('Tenant', { id: TENANT_B }))).toBe(true);

    // a tenant user who somehow holds platform-admin gains nothing from it
    expect(permissionsOf(['platform-admin'], { platformTenant: false })).toEqual([]);
    // and a platform-scope permission on a tenant user shrinks to its tenant
    const smuggled = abilityFor({
      tenantId: TENANT_A,
      actorId: 'u-1',
      permissions: ['read:Tenant:platform'],
    });
    expect(smuggled.can('read', record('Tenant', { id: TENANT_A }))).toBe(true);
    expect(smuggled.can('read', record('Tenant', { id: TENANT_B }))).toBe(false);
  });

  it('never lets a tenant role reach the platform own resources', () => {
    const owner = abilityFor(principal(['tenant-owner']));
    expect(owner.can('manage', 'SigningKey')).toBe(false);
    expect(owner.can('update', 'GpuNode')).toBe(false);
    expect(owner.can('delete', 'User')).toBe(true);
  });

  it('answers a refusal with a typed Forbidden error', () => {
    const ability = abilityFor(principal(['viewer']));
    expect(() => authorize(ability, 'create', 'User')).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN' }),
    );
    expect(() => authorize(ability, 'read', record('Job', { tenantId: TENANT_A }))).not.toThrow();
  });
});

describe('notCovered', () => {
  it('passes on only what the holder holds, at no wider scope', () => {
    const held = permissionsOf(['developer'], { platformTenant: false });
    expect(notCovered(held, ['read:Job:tenant', 'delete:Job:own', 'read:Job:own'])).toEqual([]);
    expect(notCovered(held, ['delete:Job:tenant', 'read:AuditEvent:tenant'])).toEqual([
      'delete:Job:tenant',
      'read:AuditEvent:tenant',
    ]);
    expect(
      notCovered(['manage:all:tenant'], ['delete:User:tenant', 'read:Tenant:platform']),
    ).toEqual(['read:Tenant:platform']);
  });
});

describe('system roles', () => {
  it('each grants something, and only well-formed permissions', () => {
    for (const role of SYSTEM_ROLES) {
      const granted = permissionsOf([role.name], { platformTenant: role.level === 'platform' });
      expect(granted.length).toBeGreaterThan(0);
      expect(() =>
        abilityFor({ tenantId: TENANT_A, actorId: 'x', permissions: granted }),
      ).not.toThrow();
    }
  });
});
