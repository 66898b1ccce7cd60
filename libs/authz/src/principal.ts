import { PLATFORM_TENANT_ID } from '@lattice/contracts';
import type { RequestContext } from '@lattice/request-context';
import { abilityFor, type LatticeAbility, type Principal } from './ability';
import { permissionsOf } from './role-resolution';

/**
 * The principal a verified request context speaks for. The context says `null` for the
 * platform, as it travels; the principal, and everything decided from it, says
 * `PLATFORM_TENANT_ID`.
 */
export function principalOf(ctx: RequestContext): Principal {
  const platformTenant = ctx.tenantId === null;
  return {
    tenantId: ctx.tenantId ?? PLATFORM_TENANT_ID,
    actorId: ctx.actor.ownerId ?? ctx.actor.id,
    permissions: ctx.actor.permissions ?? permissionsOf(ctx.actor.roles, { platformTenant }),
  };
}

export function abilityOf(ctx: RequestContext): LatticeAbility {
  return abilityFor(principalOf(ctx));
}

/** The claims of a verified access token that say who is calling. */
export interface AccessClaims {
  sub: string;
  tid: string;
  roles: string[];
  perms: string[];
}

/** The request context a verified access token stands for, as services receive it. */
export function contextFromClaims(claims: AccessClaims, requestId: string): RequestContext {
  return {
    tenantId: claims.tid === PLATFORM_TENANT_ID ? null : claims.tid,
    actor: { type: 'user', id: claims.sub, roles: claims.roles, permissions: claims.perms },
    requestId,
  };
}
