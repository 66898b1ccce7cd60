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

/** Abilities by the actor object they were worked out for, with the tenant it acted in. */
const abilities = new WeakMap<object, { tenantId: string | null; ability: LatticeAbility }>();

/**
 * The ability of a request context's caller. Worked out once per actor object: the contexts
 * of one caller's requests may share their actor (the gateway makes one per verified
 * credential), which, like the whole context, is a value that nothing changes once made.
 */
export function abilityOf(ctx: RequestContext): LatticeAbility {
  const known = abilities.get(ctx.actor);
  if (known && known.tenantId === ctx.tenantId) return known.ability;
  const ability = abilityFor(principalOf(ctx));
  abilities.set(ctx.actor, { tenantId: ctx.tenantId, ability });
  return ability;
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
