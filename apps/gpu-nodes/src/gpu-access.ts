import { actingTenant } from '@lattice/authz';
import { DomainError, ErrorCode, PLATFORM_TENANT_ID, type Action } from '@lattice/contracts';
import type { RequestContext } from '@lattice/request-context';

/** A lease the caller may not read is one it is not told exists. */
const hiddenLease = { code: ErrorCode.NotFound, message: 'no such lease' } as const;

const isService = (ctx: RequestContext) => ctx.actor.type === 'service';

/**
 * Who may do what in the GPU service. The fleet (nodes, GPUs, their health) is a platform view:
 * platform operators read and manage it, services (the operator, inference workers) read it.
 * Leases are their tenant's: tenant roles reach their own tenant's, services name the tenant
 * they act for, platform operators may read any tenant's they name.
 */
export const gpuAccess = {
  fleet(ctx: RequestContext, action: Action): void {
    if (isService(ctx) && action === 'read') return;
    actingTenant(ctx, {
      action,
      resource: 'GpuNode',
      reach: 'every-tenant',
      refusal: { code: ErrorCode.Forbidden, message: 'the GPU fleet is run by platform operators' },
    });
  },

  /** Routing is for the services that call model servers (and operators trying a route). */
  route(ctx: RequestContext): void {
    if (isService(ctx)) return;
    gpuAccess.fleet(ctx, 'read');
  },

  lease(
    ctx: RequestContext,
    action: Action,
    tenantId: string | undefined,
  ): { tenantId: string; ownerId: string } {
    if (isService(ctx)) {
      if (!tenantId)
        throw new DomainError(
          ErrorCode.ValidationFailed,
          'a service names the tenant it acts for',
          {
            field: 'tenantId',
          },
        );
      return { tenantId, ownerId: `service:${ctx.actor.id}` };
    }
    const acting = actingTenant(ctx, {
      tenantId,
      action,
      resource: 'GpuLease',
      reach: 'tenant',
      ...(action === 'create' ? {} : { refusal: hiddenLease }),
    });
    // the platform holds no lease: there is none of its own to read or release
    if (acting.tenantId === PLATFORM_TENANT_ID) {
      if (action === 'create')
        throw new DomainError(ErrorCode.Forbidden, 'VRAM leases are held by tenants');
      throw gpuAccess.hiddenLease();
    }
    return { tenantId: acting.tenantId, ownerId: acting.principal.actorId };
  },

  hiddenLease: () => new DomainError(hiddenLease.code, hiddenLease.message),
};
