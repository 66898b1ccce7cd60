import { PLATFORM_TENANT_ID } from '@lattice/contracts';
import type { RequestContext } from '@lattice/request-context';
import { abilityFor, record, type LatticeAbility, type Principal } from './ability';
import { permissionsOf } from './role-resolution';

/** The principal a verified request context speaks for. */
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

/**
 * Whether the caller may act on a data subject (a user) of a tenant: the subjects themselves
 * always, anyone else as their permissions on that user allow.
 */
export function mayActOnSubject(
  ctx: RequestContext,
  action: 'read' | 'update' | 'delete' | 'manage',
  tenantId: string,
  subjectId: string,
): boolean {
  const self =
    ctx.actor.type === 'user' &&
    ctx.actor.id === subjectId &&
    (ctx.tenantId ?? PLATFORM_TENANT_ID) === tenantId;
  return self || abilityOf(ctx).can(action, record('User', { tenantId, id: subjectId }));
}
