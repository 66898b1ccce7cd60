import { Injectable } from '@nestjs/common';
import type { z } from 'zod';
import {
  DomainError,
  ErrorCode,
  PLATFORM_TENANT_ID,
  type CreateRoleRequest,
  type RoleBindingRequest,
  type RoleView,
} from '@lattice/contracts';
import { SYSTEM_ROLE_NAMES, actingTenant } from '@lattice/authz';
import { TenantScope } from '@lattice/database';
import { AuditRecorder, auditSuccess } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import type { EntityManager } from 'typeorm';
import { RoleBindingRepository } from './role-binding.repository';
import { RoleCatalog } from './role-catalog';
import { RoleRepository } from './role.repository';

type Binding = z.output<typeof RoleBindingRequest>;

const noPrincipal = () => new DomainError(ErrorCode.NotFound, 'no such user or service account');

/** Custom roles of a tenant, and who holds which role. */
@Injectable()
export class RolesService {
  constructor(
    private readonly scope: TenantScope,
    private readonly roles: RoleCatalog,
    private readonly customRoles: RoleRepository,
    private readonly bindings: RoleBindingRepository,
    private readonly audit: AuditRecorder,
  ) {}

  async list(ctx: RequestContext, tenantIdRequested?: string): Promise<RoleView[]> {
    const { tenantId } = actingTenant(ctx, {
      tenantId: tenantIdRequested,
      action: 'read',
      resource: 'Role',
    });
    return this.scope.run(tenantId, (em) => this.roles.list(em, tenantId));
  }

  async create(
    ctx: RequestContext,
    request: z.output<typeof CreateRoleRequest>,
  ): Promise<RoleView> {
    const { tenantId, principal } = actingTenant(ctx, { action: 'create', resource: 'Role' });
    if (SYSTEM_ROLE_NAMES.has(request.name))
      throw new DomainError(ErrorCode.Conflict, `"${request.name}" is a system role`);
    if (request.permissions.some((p) => p.endsWith(':platform')) && tenantId !== PLATFORM_TENANT_ID)
      throw new DomainError(ErrorCode.ValidationFailed, 'tenant roles cannot reach other tenants', {
        issues: [{ path: 'permissions', message: 'platform scope is for platform roles' }],
      });
    // a tenant builds roles only from what its creator holds
    this.roles.assertMayHandOn(principal.permissions, request.permissions);
    const permissions = [...new Set(request.permissions)].sort();
    await this.scope.run(tenantId, async (em) => {
      const created = await this.customRoles.insert(em, {
        tenantId,
        name: request.name,
        description: request.description,
        permissions,
      });
      if (!created) throw new DomainError(ErrorCode.Conflict, 'the role exists');
    });
    this.record(ctx, tenantId, 'role.create', request.name, { permissions });
    return { name: request.name, description: request.description, system: false, permissions };
  }

  async delete(ctx: RequestContext, name: string): Promise<RoleView[]> {
    const { tenantId } = actingTenant(ctx, { action: 'delete', resource: 'Role' });
    const remaining = await this.scope.run(tenantId, async (em) => {
      const n = await this.bindings.holders(em, name);
      if (n > 0)
        throw new DomainError(ErrorCode.InvalidState, `the role is held by ${n} principals`);
      if (!(await this.customRoles.remove(em, name)))
        throw new DomainError(ErrorCode.NotFound, 'no such custom role');
      return this.roles.list(em, tenantId);
    });
    this.record(ctx, tenantId, 'role.delete', name, {});
    return remaining;
  }

  /** Grants a role; the holder's next token refresh carries it. */
  grant(ctx: RequestContext, binding: Binding): Promise<{ principalId: string; roles: string[] }> {
    return this.changeBinding(ctx, binding, 'role.grant', (em, tenantId) =>
      this.bindings.bind(em, {
        tenantId,
        principalId: binding.principalId,
        role: binding.role,
        grantedBy: ctx.actor.id,
      }),
    );
  }

  revoke(ctx: RequestContext, binding: Binding): Promise<{ principalId: string; roles: string[] }> {
    return this.changeBinding(ctx, binding, 'role.revoke', (em) =>
      this.bindings.unbind(em, binding.principalId, binding.role),
    );
  }

  /**
   * Grants or revokes, for an actor who may update roles and holds every permission of the
   * role: the principal must exist and the role resolve in its tenant.
   */
  private async changeBinding(
    ctx: RequestContext,
    binding: Binding,
    action: 'role.grant' | 'role.revoke',
    change: (em: EntityManager, tenantId: string) => Promise<unknown>,
  ): Promise<{ principalId: string; roles: string[] }> {
    const { tenantId, principal } = actingTenant(ctx, {
      tenantId: binding.tenantId,
      action: 'update',
      resource: 'Role',
    });
    const roles = await this.scope.run(tenantId, async (em) => {
      if (!(await this.bindings.principalExists(em, binding.principalId))) throw noPrincipal();
      const role = await this.roles.resolve(em, tenantId, binding.role);
      this.roles.assertMayHandOn(principal.permissions, role.permissions);
      await change(em, tenantId);
      return this.roles.rolesOf(em, binding.principalId);
    });
    this.record(ctx, tenantId, action, binding.role, { principalId: binding.principalId });
    return { principalId: binding.principalId, roles };
  }

  private record(
    ctx: RequestContext,
    tenantId: string,
    action: string,
    role: string,
    metadata: Record<string, unknown>,
  ): void {
    this.audit.record(
      auditSuccess(ctx, {
        tenantId,
        action,
        resource: { type: 'Role', id: role },
        metadata,
      }),
    );
  }
}
