import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DomainError, ErrorCode, PLATFORM_TENANT_ID } from '@lattice/contracts';
import {
  SYSTEM_ROLES,
  notCovered,
  permissionsOf,
  systemRole,
  type CustomRole,
} from '@lattice/authz';

export interface RoleRecord {
  name: string;
  description: string;
  system: boolean;
  permissions: string[];
}

/**
 * The roles a tenant can hand out (the system roles of its level and its own custom roles),
 * the roles a principal holds, and the permissions they add up to. Runs inside the caller's
 * tenant-scoped transaction.
 */
@Injectable()
export class RoleCatalog {
  async customRoles(em: EntityManager): Promise<CustomRole[]> {
    const rows: { name: string; permissions: string[] }[] = await em.query(
      `SELECT name, permissions FROM auth.roles ORDER BY name`,
    );
    return rows;
  }

  async list(em: EntityManager, tenantId: string): Promise<RoleRecord[]> {
    const level = tenantId === PLATFORM_TENANT_ID ? 'platform' : 'tenant';
    const custom: { name: string; description: string; permissions: string[] }[] = await em.query(
      `SELECT name, description, permissions FROM auth.roles ORDER BY name`,
    );
    return [
      ...SYSTEM_ROLES.filter((r) => r.level === level).map((r) => ({
        name: r.name,
        description: r.description,
        system: true,
        permissions: [...r.permissions],
      })),
      ...custom.map((r) => ({ ...r, system: false })),
    ];
  }

  /** A role this tenant may grant, or a validation error naming it. */
  async resolve(em: EntityManager, tenantId: string, name: string): Promise<RoleRecord> {
    const role = (await this.list(em, tenantId)).find((r) => r.name === name);
    if (!role) {
      throw new DomainError(ErrorCode.ValidationFailed, `there is no role "${name}" here`, {
        issues: [{ path: 'roles', message: `unknown role "${name}"` }],
      });
    }
    return role;
  }

  async rolesOf(em: EntityManager, principalId: string): Promise<string[]> {
    const rows: { role: string }[] = await em.query(
      `SELECT role FROM auth.role_bindings WHERE principal_id = $1 ORDER BY role`,
      [principalId],
    );
    return rows.map((r) => r.role);
  }

  /** The permissions a principal holds now, from its current roles. */
  async permissionsOf(
    em: EntityManager,
    tenantId: string,
    roles: readonly string[],
  ): Promise<string[]> {
    const platformTenant = tenantId === PLATFORM_TENANT_ID;
    const needsCustom = roles.some((r) => !systemRole(r));
    return permissionsOf(roles, {
      platformTenant,
      customRoles: needsCustom ? await this.customRoles(em) : [],
    });
  }

  /** Nobody hands on more than they hold: refuses roles or permissions beyond the granter's. */
  assertMayHandOn(granterPermissions: readonly string[], permissions: readonly string[]): void {
    const beyond = notCovered(granterPermissions, permissions);
    if (beyond.length > 0) {
      throw new DomainError(ErrorCode.Forbidden, 'cannot hand on permissions you do not hold', {
        permissions: beyond,
      });
    }
  }
}
