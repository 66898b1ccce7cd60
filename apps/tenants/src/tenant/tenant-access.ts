import { ErrorCode } from '@lattice/contracts';
import { actingTenant } from '@lattice/authz';
import type { RequestContext } from '@lattice/request-context';

/** Another service asking on its own behalf (the auth service resolving a login's tenant). */
const isService = (ctx: RequestContext) => ctx.actor.type === 'service';

/** A tenant the caller may not read is one it is not told exists. */
const hidden = { code: ErrorCode.NotFound, message: 'no such tenant' } as const;
const refused = (message: string) => ({ code: ErrorCode.Forbidden, message }) as const;

/** The tenants a listing or a lookup by slug covers: every one, or the caller's own only. */
export type TenantReach = { every: true } | { every: false; tenantId: string };

/**
 * Who may do what to a tenant record, from the caller's CASL ability: platform roles reach
 * every tenant; tenant roles reach their own (owners and admins rename it, owners close it).
 * Each check refuses with a typed error; a tenant the caller may not read is NotFound.
 */
export const tenantAccess = {
  create(ctx: RequestContext): void {
    actingTenant(ctx, {
      action: 'create',
      resource: 'Tenant',
      reach: 'every-tenant',
      refusal: refused('only platform administrators create tenants'),
    });
  },

  /** Whose rows a listing reads; row-level security narrows "the own tenant" to its row. */
  listing(ctx: RequestContext, refusal?: typeof hidden): TenantReach {
    if (isService(ctx)) return { every: true };
    const acting = actingTenant(ctx, {
      action: 'read',
      resource: 'Tenant',
      reach: 'some',
      refusal,
    });
    return acting.can('read', 'Tenant', 'every-tenant')
      ? { every: true }
      : { every: false, tenantId: acting.tenantId };
  },

  read(ctx: RequestContext, id: string): void {
    if (isService(ctx)) return;
    actingTenant(ctx, { tenantId: id, action: 'read', resource: 'Tenant', refusal: hidden });
  },

  update(ctx: RequestContext, id: string): void {
    change(ctx, id, { action: 'update', refusal: 'you may not change this tenant' });
  },

  /** Plans, quotas, suspension: decisions the platform makes, not the tenant. */
  govern(ctx: RequestContext, id: string, message: string): void {
    change(ctx, id, { action: 'update', reach: 'every-tenant', refusal: message });
  },

  delete(ctx: RequestContext, id: string): void {
    change(ctx, id, { action: 'delete', refusal: 'you may not delete this tenant' });
  },

  meter(ctx: RequestContext, tenantId: string): void {
    if (isService(ctx)) return;
    actingTenant(ctx, { tenantId, action: 'read', resource: 'Usage', refusal: hidden });
  },
};

/** A change to a tenant: one the caller may not read is NotFound, one it may not change refused. */
function change(
  ctx: RequestContext,
  id: string,
  check: { action: 'update' | 'delete'; reach?: 'every-tenant'; refusal: string },
): void {
  tenantAccess.read(ctx, id);
  actingTenant(ctx, {
    tenantId: id,
    resource: 'Tenant',
    ...check,
    refusal: refused(check.refusal),
  });
}
