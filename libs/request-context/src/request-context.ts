import { randomUUID } from 'node:crypto';
import { PLATFORM_ADMIN_ROLE, type Actor } from '@lattice/contracts';

/** Who is calling, for which tenant, as the gateway vouched for it. */
export interface RequestContext {
  /** The tenant the caller acts within; null for platform-level callers. */
  tenantId: string | null;
  actor: Actor;
  requestId: string;
}

/** A service calling on its own behalf (a cache refill, a health probe), at platform level. */
export function serviceContext(service: string): RequestContext {
  return {
    tenantId: null,
    actor: { type: 'service', id: service, roles: [] },
    requestId: randomUUID(),
  };
}

export function isPlatformAdmin(ctx: RequestContext): boolean {
  return ctx.tenantId === null && ctx.actor.roles.includes(PLATFORM_ADMIN_ROLE);
}
