import { Injectable } from '@nestjs/common';
import type { z } from 'zod';
import {
  DomainError,
  ErrorCode,
  type CreateServiceAccountRequest,
  type ServiceAccountView,
} from '@lattice/contracts';
import { actingTenant } from '@lattice/authz';
import { TenantScope } from '@lattice/database';
import { AuditRecorder, auditSuccess } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { RoleBindingRepository } from '../roles/role-binding.repository';
import { RoleCatalog } from '../roles/role-catalog';
import { ServiceAccountRepository } from './service-account.repository';

type View = z.output<typeof ServiceAccountView>;

/** Non-human principals of a tenant; they act through API keys. */
@Injectable()
export class ServiceAccountsService {
  constructor(
    private readonly scope: TenantScope,
    private readonly accounts: ServiceAccountRepository,
    private readonly roles: RoleCatalog,
    private readonly bindings: RoleBindingRepository,
    private readonly audit: AuditRecorder,
  ) {}

  async create(
    ctx: RequestContext,
    request: z.output<typeof CreateServiceAccountRequest>,
  ): Promise<View> {
    const { tenantId, principal: caller } = actingTenant(ctx, {
      action: 'create',
      resource: 'ServiceAccount',
    });
    const created = await this.scope.run(tenantId, async (em) => {
      const granted = await this.roles.grantedBy(em, tenantId, request.roles);
      this.roles.assertMayHandOn(caller.permissions, granted);
      const row = await this.accounts.insert(em, {
        tenantId,
        name: request.name,
        createdBy: ctx.actor.id,
      });
      if (!row)
        throw new DomainError(ErrorCode.Conflict, 'a service account with this name exists');
      const roles = [...new Set(request.roles)].sort();
      for (const role of roles)
        await this.bindings.bind(em, {
          tenantId,
          principalId: row.id,
          role,
          grantedBy: ctx.actor.id,
        });
      return {
        id: row.id,
        tenantId,
        name: request.name,
        roles,
        createdAt: row.created_at.toISOString(),
      };
    });
    this.audit.record(
      auditSuccess(ctx, {
        tenantId,
        action: 'service-account.create',
        resource: { type: 'ServiceAccount', id: created.id },
        metadata: { roles: created.roles },
      }),
    );
    return created;
  }

  async list(ctx: RequestContext): Promise<View[]> {
    const { tenantId } = actingTenant(ctx, { action: 'read', resource: 'ServiceAccount' });
    return this.scope.run(tenantId, async (em) => {
      const rows = await this.accounts.list(em);
      return Promise.all(
        rows.map(async (r) => ({
          id: r.id,
          tenantId,
          name: r.name,
          roles: await this.roles.rolesOf(em, r.id),
          createdAt: r.created_at.toISOString(),
        })),
      );
    });
  }
}
