import { abilityOf, record } from '@lattice/authz';
import type { RequestContext } from '@lattice/request-context';

/** Another service asking on its own behalf (the auth service resolving a login's tenant). */
const isService = (ctx: RequestContext) => ctx.actor.type === 'service';

/** A tenant record with no id: only a permission that reaches every tenant covers it. */
const anyTenant = () => record('Tenant', {});

/**
 * Who may do what to a tenant record, from the caller's CASL ability: platform roles reach
 * every tenant; tenant roles reach their own (owners and admins rename it, owners close it).
 */
export const tenantAccess = {
  create: (ctx: RequestContext) => abilityOf(ctx).can('create', anyTenant()),
  listAll: (ctx: RequestContext) => isService(ctx) || abilityOf(ctx).can('read', anyTenant()),
  read: (ctx: RequestContext, id: string) =>
    isService(ctx) || abilityOf(ctx).can('read', record('Tenant', { id })),
  update: (ctx: RequestContext, id: string) =>
    abilityOf(ctx).can('update', record('Tenant', { id })),
  /** Plans, quotas, suspension: decisions the platform makes, not the tenant. */
  govern: (ctx: RequestContext) => abilityOf(ctx).can('update', anyTenant()),
  delete: (ctx: RequestContext, id: string) =>
    abilityOf(ctx).can('delete', record('Tenant', { id })),
  meter: (ctx: RequestContext, tenantId: string) =>
    isService(ctx) || abilityOf(ctx).can('read', record('Usage', { tenantId })),
};
