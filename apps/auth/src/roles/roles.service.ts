import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { z } from 'zod';
import {
  DomainError,
  ErrorCode,
  type CreateRoleRequest,
  type RoleBindingRequest,
  type RoleView,
} from '@lattice/contracts';
import { SYSTEM_ROLE_NAMES, abilityOf, authorize, principalOf, record } from '@lattice/authz';
import { TenantScope } from '@lattice/database';
import { AuditRecorder, auditActorOf } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { RoleCatalog } from '../access/role-catalog';

type Binding = z.output<typeof RoleBindingRequest>;

/** Custom roles of a tenant, and who holds which role. */
@Injectable()
export class RolesService {
  constructor(
    private readonly scope: TenantScope,
    private readonly roles: RoleCatalog,
    private readonly audit: AuditRecorder,
  ) {}

  async list(ctx: RequestContext, tenantIdRequested?: string): Promise<RoleView[]> {
    const tenantId = tenantIdRequested ?? principalOf(ctx).tenantId;
    authorize(abilityOf(ctx), 'read', record('Role', { tenantId }));
    return this.scope.run(tenantId, (em) => this.roles.list(em, tenantId));
  }

  async create(
    ctx: RequestContext,
    request: z.output<typeof CreateRoleRequest>,
  ): Promise<RoleView> {
    const principal = principalOf(ctx);
    const tenantId = principal.tenantId;
    authorize(abilityOf(ctx), 'create', record('Role', { tenantId }));
    if (SYSTEM_ROLE_NAMES.has(request.name))
      throw new DomainError(ErrorCode.Conflict, `"${request.name}" is a system role`);
    if (request.permissions.some((p) => p.endsWith(':platform')) && ctx.tenantId !== null)
      throw new DomainError(ErrorCode.ValidationFailed, 'tenant roles cannot reach other tenants', {
        issues: [{ path: 'permissions', message: 'platform scope is for platform roles' }],
      });
    // a tenant builds roles only from what its creator holds
    this.roles.assertMayHandOn(principal.permissions, request.permissions);
    const permissions = [...new Set(request.permissions)].sort();
    await this.scope.run(tenantId, async (em) => {
      const rows = await em.query(
        `INSERT INTO auth.roles (tenant_id, name, description, permissions) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING RETURNING name`,
        [tenantId, request.name, request.description, permissions],
      );
      if (rows.length === 0) throw new DomainError(ErrorCode.Conflict, 'the role exists');
    });
    this.record(ctx, tenantId, 'role.create', request.name, { permissions });
    return { name: request.name, description: request.description, system: false, permissions };
  }

  async delete(ctx: RequestContext, name: string): Promise<RoleView[]> {
    const tenantId = principalOf(ctx).tenantId;
    authorize(abilityOf(ctx), 'delete', record('Role', { tenantId }));
    const remaining = await this.scope.run(tenantId, async (em) => {
      const [{ n }] = await em.query(
        `SELECT count(*)::int AS n FROM auth.role_bindings WHERE role = $1`,
        [name],
      );
      if (n > 0)
        throw new DomainError(ErrorCode.InvalidState, `the role is held by ${n} principals`);
      const [, deleted]: [unknown[], number] = await em.query(
        `DELETE FROM auth.roles WHERE name = $1 RETURNING name`,
        [name],
      );
      if (deleted === 0) throw new DomainError(ErrorCode.NotFound, 'no such custom role');
      return this.roles.list(em, tenantId);
    });
    this.record(ctx, tenantId, 'role.delete', name, {});
    return remaining;
  }

  /** Grants a role; the holder's next token refresh carries it. */
  async grant(
    ctx: RequestContext,
    binding: Binding,
  ): Promise<{ principalId: string; roles: string[] }> {
    const tenantId = binding.tenantId ?? principalOf(ctx).tenantId;
    authorize(abilityOf(ctx), 'update', record('Role', { tenantId }));
    const roles = await this.scope.run(tenantId, async (em) => {
      await this.assertPrincipal(em, binding.principalId);
      const role = await this.roles.resolve(em, tenantId, binding.role);
      this.roles.assertMayHandOn(principalOf(ctx).permissions, role.permissions);
      await em.query(
        `INSERT INTO auth.role_bindings (tenant_id, principal_id, role, granted_by)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [tenantId, binding.principalId, binding.role, ctx.actor.id],
      );
      return this.roles.rolesOf(em, binding.principalId);
    });
    this.record(ctx, tenantId, 'role.grant', binding.role, { principalId: binding.principalId });
    return { principalId: binding.principalId, roles };
  }

  async revoke(
    ctx: RequestContext,
    binding: Binding,
  ): Promise<{ principalId: string; roles: string[] }> {
    const tenantId = binding.tenantId ?? principalOf(ctx).tenantId;
    authorize(abilityOf(ctx), 'update', record('Role', { tenantId }));
    const roles = await this.scope.run(tenantId, async (em) => {
      await this.assertPrincipal(em, binding.principalId);
      const role = await this.roles.resolve(em, tenantId, binding.role);
      this.roles.assertMayHandOn(principalOf(ctx).permissions, role.permissions);
      await em.query(`DELETE FROM auth.role_bindings WHERE principal_id = $1 AND role = $2`, [
        binding.principalId,
        binding.role,
      ]);
      return this.roles.rolesOf(em, binding.principalId);
    });
    this.record(ctx, tenantId, 'role.revoke', binding.role, { principalId: binding.principalId });
    return { principalId: binding.principalId, roles };
  }

  private async assertPrincipal(em: EntityManager, id: string): Promise<void> {
    const [row] = await em.query(
      `SELECT 1 FROM auth.users WHERE id = $1 UNION ALL SELECT 1 FROM auth.service_accounts WHERE id = $1`,
      [id],
    );
    if (!row) throw new DomainError(ErrorCode.NotFound, 'no such user or service account');
  }

  private record(
    ctx: RequestContext,
    tenantId: string,
    action: string,
    role: string,
    metadata: Record<string, unknown>,
  ): void {
    this.audit.record({
      tenantId,
      actor: auditActorOf(ctx),
      action,
      resource: { type: 'Role', id: role },
      outcome: 'success',
      requestId: ctx.requestId,
      metadata,
    });
  }
}
