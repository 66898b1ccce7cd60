import { randomUUID } from 'node:crypto';
import type { RequestContext } from '@lattice/request-context';
import { strictMock, type StrictMock } from '@lattice/testing';
import type { AuthSettings } from '../src/auth.settings';
import type { RoleBindingRepository } from '../src/roles/role-binding.repository';
import { RoleCatalog } from '../src/roles/role-catalog';
import { RoleRepository, type CustomRoleRow } from '../src/roles/role.repository';
import type { UserRow } from '../src/users/user.repository';

/** What the auth services' unit specs share: callers, settings, a role catalog and rows. */

/** A signed-in user calling with the given roles, in the given tenant (null: the platform). */
export function userContext(
  tenantId: string | null,
  roles: string[],
  id: string = randomUUID(),
): RequestContext {
  return { tenantId, actor: { type: 'user', id, roles }, requestId: randomUUID() };
}

/** Settings as the service reads them at boot, with short lifetimes; a test changes what it needs. */
export function authSettings(changes: Partial<AuthSettings> = {}): AuthSettings {
  return {
    issuer: 'https://auth.lattice.test',
    audience: 'lattice',
    accessTokenTtlSeconds: 900,
    refreshTokenTtlSeconds: 86_400,
    refreshReuseGraceSeconds: 10,
    lockoutThreshold: 5,
    lockoutSeconds: 900,
    keyRotationDays: 30,
    ...changes,
  };
}

/**
 * The real catalog over the given bindings and a strict mock of the custom roles: with `custom`
 * the tenant's custom roles are those; without, looking them up fails the test.
 */
export function roleCatalog(
  bindings: StrictMock<RoleBindingRepository>,
  custom?: CustomRoleRow[],
): RoleCatalog {
  const customRoles = strictMock(RoleRepository);
  if (custom) customRoles.list.mockResolvedValue(custom);
  return new RoleCatalog(customRoles, bindings);
}

/** An active user of the tenant, never signed in, as the users table keeps it. */
export function userRow(tenantId: string, changes: Partial<UserRow> = {}): UserRow {
  return {
    tenant_id: tenantId,
    id: randomUUID(),
    email: 'ada@example.com',
    display_name: 'Ada',
    password_hash: 'stored-hash',
    status: 'active',
    failed_attempts: 0,
    locked_until: null,
    last_login_at: null,
    created_at: new Date('2026-04-01T00:00:00Z'),
    ...changes,
  };
}
