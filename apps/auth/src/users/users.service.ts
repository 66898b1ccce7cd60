import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { z } from 'zod';
import {
  DomainError,
  ErrorCode,
  type CreateUserRequest,
  type ListUsersRequest,
  type UserPage,
  type UserView,
} from '@lattice/contracts';
import { abilityOf, authorize, notCovered, principalOf, record } from '@lattice/authz';
import { CursorCodec, TenantScope } from '@lattice/database';
import { AuditRecorder, auditActorOf, type RequestContext } from '@lattice/messaging';
import { Clock } from '@lattice/service-runtime';
import { TenantDirectory } from '../access/tenant-directory';
import { PasswordHasher } from '../passwords/password-hasher';
import { RoleBindingRepository } from '../roles/role-binding.repository';
import { RoleCatalog } from '../roles/role-catalog';
import { RefreshTokenRepository } from '../sessions/refresh-token.repository';
import { UserRepository, type UserRow } from './user.repository';

@Injectable()
export class UsersService {
  constructor(
    private readonly scope: TenantScope,
    private readonly users: UserRepository,
    private readonly roles: RoleCatalog,
    private readonly bindings: RoleBindingRepository,
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly tenants: TenantDirectory,
    private readonly hasher: PasswordHasher,
    private readonly cursors: CursorCodec,
    private readonly audit: AuditRecorder,
    private readonly clock: Clock,
  ) {}

  async create(
    ctx: RequestContext,
    request: z.output<typeof CreateUserRequest>,
  ): Promise<UserView> {
    const principal = principalOf(ctx);
    const tenantId = request.tenantId ?? principal.tenantId;
    authorize(abilityOf(ctx), 'create', record('User', { tenantId }));
    await this.tenants.assertActive(tenantId);
    // hashed before the transaction: it is slow, and needs no lock
    const passwordHash = await this.hasher.hash(request.password);
    const view = await this.scope.run(tenantId, async (em) => {
      await this.assertMayGrant(em, ctx, tenantId, request.roles);
      const row = await this.users.insert(em, {
        tenantId,
        email: request.email,
        displayName: request.displayName,
        passwordHash,
      });
      if (!row) throw new DomainError(ErrorCode.Conflict, 'a user with this email exists');
      for (const role of new Set(request.roles))
        await this.bindings.bind(em, {
          tenantId,
          principalId: row.id,
          role,
          grantedBy: ctx.actor.id,
        });
      return this.view(row, [...new Set(request.roles)].sort());
    });
    this.audit.record({
      tenantId,
      actor: auditActorOf(ctx),
      action: 'user.create',
      resource: { type: 'User', id: view.id },
      outcome: 'success',
      requestId: ctx.requestId,
      metadata: { roles: view.roles },
    });
    return view;
  }

  async get(ctx: RequestContext, id: string): Promise<UserView> {
    const tenantId = principalOf(ctx).tenantId;
    return this.scope.run(tenantId, async (em) => {
      const row = await this.users.byId(em, id);
      if (!row || !abilityOf(ctx).can('read', record('User', { tenantId, id })))
        throw new DomainError(ErrorCode.NotFound, 'no such user');
      return this.view(row, await this.roles.rolesOf(em, id));
    });
  }

  async list(
    ctx: RequestContext,
    request: z.output<typeof ListUsersRequest>,
  ): Promise<z.output<typeof UserPage>> {
    const tenantId = request.tenantId ?? principalOf(ctx).tenantId;
    authorize(abilityOf(ctx), 'read', record('User', { tenantId }));
    const binding = { tenantId, kind: 'users' };
    const after = request.cursor
      ? (this.cursors.decode(request.cursor, binding) as [string, string])
      : undefined;
    return this.scope.run(tenantId, async (em) => {
      const rows = await this.users.page(em, request.limit + 1, after);
      const items = await Promise.all(
        rows
          .slice(0, request.limit)
          .map(async (row) => this.view(row, await this.roles.rolesOf(em, row.id))),
      );
      const last = rows.length > request.limit ? rows[request.limit - 1] : undefined;
      return {
        items,
        nextCursor: last
          ? this.cursors.encode([last.created_at.toISOString(), last.id], binding)
          : null,
      };
    });
  }

  async setStatus(
    ctx: RequestContext,
    id: string,
    status: 'active' | 'disabled',
  ): Promise<UserView> {
    const tenantId = principalOf(ctx).tenantId;
    const view = await this.scope.run(tenantId, async (em) => {
      const row = await this.users.byId(em, id, true);
      if (!row) throw new DomainError(ErrorCode.NotFound, 'no such user');
      authorize(abilityOf(ctx), 'update', record('User', { tenantId, id }));
      await this.assertOutranks(em, ctx, tenantId, id);
      await this.users.setStatus(em, id, status);
      if (status === 'disabled') await this.refreshTokens.revokeAllOfUser(em, id);
      return this.view(
        { ...row, status, failed_attempts: 0, locked_until: null },
        await this.roles.rolesOf(em, id),
      );
    });
    this.audit.record({
      tenantId,
      actor: auditActorOf(ctx),
      action: status === 'disabled' ? 'user.disable' : 'user.enable',
      resource: { type: 'User', id },
      outcome: 'success',
      requestId: ctx.requestId,
    });
    return view;
  }

  /**
   * Refuses to act on a user who holds permissions the caller does not (a tenant admin may not
   * disable the tenant's owner), by the same rule as handing on roles.
   */
  private async assertOutranks(
    em: EntityManager,
    ctx: RequestContext,
    tenantId: string,
    userId: string,
  ): Promise<void> {
    const held = await this.roles.grantedBy(em, tenantId, await this.roles.rolesOf(em, userId));
    const beyond = notCovered(principalOf(ctx).permissions, held);
    if (beyond.length > 0)
      throw new DomainError(ErrorCode.Forbidden, 'the user holds permissions you do not', {
        permissions: beyond,
      });
  }

  /** Refuses roles the tenant does not have, and roles that grant more than the caller holds. */
  async assertMayGrant(
    em: EntityManager,
    ctx: RequestContext,
    tenantId: string,
    roles: readonly string[],
  ): Promise<void> {
    const granted = await this.roles.grantedBy(em, tenantId, roles);
    this.roles.assertMayHandOn(principalOf(ctx).permissions, granted);
  }

  view(row: UserRow, roles: string[]): UserView {
    const locked = row.locked_until !== null && row.locked_until > this.clock.now();
    return {
      id: row.id,
      tenantId: row.tenant_id,
      email: row.email,
      displayName: row.display_name,
      status: locked ? 'locked' : row.status === 'locked' ? 'active' : row.status,
      roles,
      lockedUntil: locked ? row.locked_until!.toISOString() : null,
      lastLoginAt: row.last_login_at?.toISOString() ?? null,
      createdAt: row.created_at.toISOString(),
    };
  }
}
