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
import { actingTenant, notCovered, type Principal } from '@lattice/authz';
import { CursorCodec, TenantScope } from '@lattice/database';
import { AuditRecorder, auditSuccess } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
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
    const { tenantId, principal } = actingTenant(ctx, {
      tenantId: request.tenantId,
      action: 'create',
      resource: 'User',
    });
    await this.tenants.assertActive(tenantId);
    // hashed before the transaction: it is slow, and needs no lock
    const passwordHash = await this.hasher.hash(request.password);
    const view = await this.scope.run(tenantId, async (em) => {
      await this.assertMayGrant(em, principal, tenantId, request.roles);
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
    this.audit.record(
      auditSuccess(ctx, {
        tenantId,
        action: 'user.create',
        resource: { type: 'User', id: view.id },
        metadata: { roles: view.roles },
      }),
    );
    return view;
  }

  async get(ctx: RequestContext, id: string): Promise<UserView> {
    // a user the caller may not read is one it is not told exists
    const { tenantId } = actingTenant(ctx, {
      action: 'read',
      resource: 'User',
      reach: { id },
      refusal: { code: ErrorCode.NotFound, message: 'no such user' },
    });
    return this.scope.run(tenantId, async (em) => {
      const row = await this.users.byId(em, id);
      if (!row) throw new DomainError(ErrorCode.NotFound, 'no such user');
      return this.view(row, await this.roles.rolesOf(em, id));
    });
  }

  async list(
    ctx: RequestContext,
    request: z.output<typeof ListUsersRequest>,
  ): Promise<z.output<typeof UserPage>> {
    const { tenantId } = actingTenant(ctx, {
      tenantId: request.tenantId,
      action: 'read',
      resource: 'User',
    });
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
    // which user it is decides what the caller may do to it: found first, then checked
    const acting = actingTenant(ctx, { action: 'update', resource: 'User', reach: 'some' });
    const { tenantId, principal } = acting;
    const view = await this.scope.run(tenantId, async (em) => {
      const row = await this.users.byId(em, id, true);
      if (!row) throw new DomainError(ErrorCode.NotFound, 'no such user');
      acting.authorize('update', 'User', { id });
      await this.assertOutranks(em, principal, tenantId, id);
      await this.users.setStatus(em, id, status);
      if (status === 'disabled') await this.refreshTokens.revokeAllOfUser(em, id);
      return this.view(
        { ...row, status, failed_attempts: 0, locked_until: null },
        await this.roles.rolesOf(em, id),
      );
    });
    this.audit.record(
      auditSuccess(ctx, {
        tenantId,
        action: status === 'disabled' ? 'user.disable' : 'user.enable',
        resource: { type: 'User', id },
      }),
    );
    return view;
  }

  /**
   * Refuses to act on a user who holds permissions the caller does not (a tenant admin may not
   * disable the tenant's owner), by the same rule as handing on roles.
   */
  private async assertOutranks(
    em: EntityManager,
    caller: Principal,
    tenantId: string,
    userId: string,
  ): Promise<void> {
    const held = await this.roles.grantedBy(em, tenantId, await this.roles.rolesOf(em, userId));
    const beyond = notCovered(caller.permissions, held);
    if (beyond.length > 0)
      throw new DomainError(ErrorCode.Forbidden, 'the user holds permissions you do not', {
        permissions: beyond,
      });
  }

  /** Refuses roles the tenant does not have, and roles that grant more than the caller holds. */
  async assertMayGrant(
    em: EntityManager,
    granter: Principal,
    tenantId: string,
    roles: readonly string[],
  ): Promise<void> {
    const granted = await this.roles.grantedBy(em, tenantId, roles);
    this.roles.assertMayHandOn(granter.permissions, granted);
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
