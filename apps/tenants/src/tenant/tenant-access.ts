import { isPlatformAdmin, type RequestContext } from '@lattice/messaging';

const TENANT_MANAGERS = ['tenant-owner', 'tenant-admin'];

/**
 * Who may do what to a tenant record. Until the auth service brings CASL abilities, these are
 * the rules: platform admins manage every tenant; a tenant's own owners and admins may rename
 * it and change its settings; anyone in a tenant may read it and its usage.
 */
export const tenantAccess = {
  manageAll: (ctx: RequestContext) => isPlatformAdmin(ctx),
  read: (ctx: RequestContext, tenantId: string) =>
    isPlatformAdmin(ctx) || ctx.tenantId === tenantId,
  update: (ctx: RequestContext, tenantId: string) =>
    isPlatformAdmin(ctx) ||
    (ctx.tenantId === tenantId && ctx.actor.roles.some((r) => TENANT_MANAGERS.includes(r))),
  meter: (ctx: RequestContext, tenantId: string) =>
    isPlatformAdmin(ctx) || ctx.actor.type === 'service' || ctx.tenantId === tenantId,
};
