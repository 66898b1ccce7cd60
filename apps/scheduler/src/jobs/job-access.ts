import { actingTenant } from '@lattice/authz';
import { DomainError, ErrorCode, PLATFORM_TENANT_ID } from '@lattice/contracts';
import type { RequestContext } from '@lattice/request-context';

/** A job the caller may not read is one it is not told exists. */
const hidden = { code: ErrorCode.NotFound, message: 'no such job' } as const;

export interface JobReader {
  tenantId: string;
  /** Set when the caller reads only the jobs it submitted (own-scope permissions). */
  ownerId?: string;
  /** Whether the caller may `action` this job of its tenant, by the job's owner. */
  may(action: 'read' | 'update', ownerId: string): boolean;
}

/**
 * Who may do what to jobs, from the caller's CASL ability: tenant roles reach their own
 * tenant's jobs (developers and service accounts the ones they submitted); every job belongs
 * to a tenant, so the platform tenant submits none.
 */
export const jobAccess = {
  submit(ctx: RequestContext, tenantId?: string): { tenantId: string; ownerId: string } {
    const acting = actingTenant(ctx, {
      tenantId,
      action: 'create',
      resource: 'Job',
      reach: 'some',
    });
    if (acting.tenantId === PLATFORM_TENANT_ID)
      throw new DomainError(ErrorCode.Forbidden, 'jobs are submitted by tenants');
    acting.authorize('create', 'Job', { ownerId: acting.principal.actorId });
    return { tenantId: acting.tenantId, ownerId: acting.principal.actorId };
  },

  reader(ctx: RequestContext, tenantId?: string): JobReader {
    const acting = actingTenant(ctx, {
      tenantId,
      action: 'read',
      resource: 'Job',
      reach: 'some',
      refusal: hidden,
    });
    const everyJob = acting.can('read', 'Job', 'tenant');
    return {
      tenantId: acting.tenantId,
      ...(everyJob ? {} : { ownerId: acting.principal.actorId }),
      may: (action, ownerId) => acting.can(action, 'Job', { ownerId }),
    };
  },

  hidden: () => new DomainError(hidden.code, hidden.message),
};

/** Worker-side calls come from worker processes, which speak as services. */
export function requireWorker(ctx: RequestContext): void {
  if (ctx.actor.type !== 'service')
    throw new DomainError(ErrorCode.Forbidden, 'only workers lease and report jobs');
}
