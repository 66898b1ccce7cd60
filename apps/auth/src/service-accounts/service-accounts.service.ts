import { Injectable } from '@nestjs/common';
import type { z } from 'zod';
import {
  DomainError,
  ErrorCode,
  type CreateServiceAccountRequest,
  type ServiceAccountView,
} from '@lattice/contracts';
import { abilityOf, authorize, principalOf, record } from '@lattice/authz';
import { TenantScope } from '@lattice/database';
import { AuditRecorder, auditActorOf } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { RoleCatalog } from '../access/role-catalog';

type View = z.output<typeof ServiceAccountView>;

/** Non-human principals of a tenant; they act through API keys. */
@Injectable()
export class ServiceAccountsService {
  constructor(
    private readonly scope: TenantScope,
    private readonly roles: RoleCatalog,
    private readonly audit: AuditRecorder,
  ) {}

  async create(
    ctx: RequestContext,
    request: z.output<typeof CreateServiceAccountRequest>,
  ): Promise<View> {
    const caller = principalOf(ctx);
    const tenantId = caller.tenantId;
    authorize(abilityOf(ctx), 'create', record('ServiceAccount', { tenantId }));
    const created = await this.scope.run(tenantId, async (em) => {
      const granted: string[] = [];
      for (const name of request.roles)
        granted.push(...(await this.roles.resolve(em, tenantId, name)).permissions);
      this.roles.assertMayHandOn(caller.permissions, granted);
      const [row]: { id: string; created_at: Date }[] = await em.query(
        `INSERT INTO auth.service_accounts (tenant_id, name, created_by) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING RETURNING id, created_at`,
        [tenantId, request.name, ctx.actor.id],
      );
      if (!row)
        throw new DomainError(ErrorCode.Conflict, 'a service account with this name exists');
      const roles = [...new Set(request.roles)].sort();
      for (const role of roles) {
        await em.query(
          `INSERT INTO auth.role_bindings (tenant_id, principal_id, role, granted_by) VALUES ($1, $2, $3, $4)`,
          [tenantId, row.id, role, ctx.actor.id],
        );
      }
      return {
        id: row.id,
        tenantId,
        name: request.name,
        roles,
        createdAt: row.created_at.toISOString(),
      };
    });
    this.audit.record({
      tenantId,
      actor: auditActorOf(ctx),
      action: 'service-account.create',
      resource: { type: 'ServiceAccount', id: created.id },
      outcome: 'success',
      requestId: ctx.requestId,
      metadata: { roles: created.roles },
    });
    return created;
  }

  async list(ctx: RequestContext): Promise<View[]> {
    const tenantId = principalOf(ctx).tenantId;
    authorize(abilityOf(ctx), 'read', record('ServiceAccount', { tenantId }));
    return this.scope.run(tenantId, async (em) => {
      const rows: { id: string; name: string; created_at: Date }[] = await em.query(
        `SELECT id, name, created_at FROM auth.service_accounts ORDER BY name`,
      );
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
