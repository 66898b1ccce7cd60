import { systemRole } from './system-roles';

/** A role a tenant defined for itself. */
export interface CustomRole {
  name: string;
  permissions: readonly string[];
}

/**
 * The permissions that a set of role names grants: system roles by their definition, custom
 * roles by what the tenant gave them. Platform roles count only in the platform tenant;
 * unknown names grant nothing.
 */
export function permissionsOf(
  roles: readonly string[],
  options: { platformTenant: boolean; customRoles?: readonly CustomRole[] },
): string[] {
  const granted = new Set<string>();
  for (const name of roles) {
    const system = systemRole(name);
    if (system) {
      if (system.level === 'platform' && !options.platformTenant) continue;
      system.permissions.forEach((p) => granted.add(p));
      continue;
    }
    options.customRoles?.find((r) => r.name === name)?.permissions.forEach((p) => granted.add(p));
  }
  return [...granted].sort();
}
