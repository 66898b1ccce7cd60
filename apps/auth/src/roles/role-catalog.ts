import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DomainError, ErrorCode, PLATFORM_TENANT_ID } from '@lattice/contracts';
import { SYSTEM_ROLES, notCovered, permissionsOf, systemRole } from '@lattice/authz';
import { RoleBindingRepository } from './role-binding.repository';
import { RoleRepository } from './role.repository';

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
  constructor(
    private readonly roles: RoleRepository,
    private readonly bindings: RoleBindingRepository,
  ) {}

  async list(em: EntityManager, tenantId: string): Promise<RoleRecord[]> {
    const level = tenantId === PLATFORM_TENANT_ID ? 'platform' : 'tenant';
    const custom = await this.roles.list(em);
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

  /** What a set of role names grants, each resolved as `resolve` does. */
  async grantedBy(em: EntityManager, tenantId: string, names: Iterable<string>): Promise<string[]> {
    const granted: string[] = [];
    for (const name of names) granted.push(...(await this.resolve(em, tenantId, name)).permissions);
    return granted;
  }

  rolesOf(em: EntityManager, principalId: string): Promise<string[]> {
    return this.bindings.rolesOf(em, principalId);
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
      customRoles: needsCustom ? await this.roles.list(em) : [],
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
