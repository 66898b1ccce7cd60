import {
  DomainError,
  ErrorCode,
  PLATFORM_TENANT_ID,
  type Action,
  type Resource,
} from '@lattice/contracts';
import type { RequestContext } from '@lattice/request-context';
import {
  abilityFor,
  recordFieldsOf,
  record,
  type LatticeAbility,
  type Principal,
  type ResourceRecord,
} from './ability';
import { principalOf } from './principal';

/**
 * What a call needs to reach in the acting tenant:
 * - `'tenant'`: the resource there as a whole (creating one, listing them all): a record that
 *   names only its tenant, which own-scope permissions do not cover;
 * - `'some'`: at least the caller's own records there; the caller then checks each record it
 *   finds with `can`;
 * - `'every-tenant'`: the resource in every tenant at once (creating a tenant, changing a
 *   plan): only platform-scope permissions cover it;
 * - the fields of one record (its id, its owner): a record-level check.
 */
export type Reach = 'tenant' | 'some' | 'every-tenant' | ResourceRecord;

export interface ActingTenantRequest {
  /** The tenant the call names; absent or null, the caller's own. */
  tenantId?: string | null;
  action: Action;
  resource: Resource;
  reach?: Reach;
  /** The user whose personal data the call concerns: users may always act on their own. */
  subjectId?: string;
  /** How a refusal reads; NotFound where a refusal must not reveal that the record exists. */
  refusal?: { code: ErrorCode.Forbidden | ErrorCode.NotFound; message: string };
}

export interface ActingTenant {
  /** The tenant the call acts on: a tenant id, or `PLATFORM_TENANT_ID` for the platform. */
  tenantId: string;
  principal: Principal;
  ability: LatticeAbility;
  /** Whether the caller may do `action` to records of the acting tenant within `reach`. */
  can(action: Action, resource: Resource, reach?: Reach): boolean;
  /** `can`, refusing with a typed Forbidden error. */
  authorize(action: Action, resource: Resource, reach?: Reach): void;
}

/**
 * Decides which tenant a call acts on and whether the caller may do what it asks there.
 *
 * The acting tenant is the one the call names, or else the caller's own. Only a platform
 * principal acts on a tenant other than its own; anyone else naming one is refused, whatever
 * its permissions say (a platform-scope permission held by a tenant user reaches its own
 * tenant only). Then the CASL ability must allow `action` on `resource` within `reach`.
 *
 * The platform is `PLATFORM_TENANT_ID` from here on, never `null`: a `RequestContext` says
 * `null` on the wire, `principalOf` turns it into the id once, and services, scopes, audit
 * events and rows all use the id.
 */
export function actingTenant(ctx: RequestContext, request: ActingTenantRequest): ActingTenant {
  const principal = principalOf(ctx);
  const ability = abilityFor(principal);
  const tenantId = request.tenantId ?? principal.tenantId;
  const can = (action: Action, resource: Resource, reach: Reach = 'tenant') =>
    ability.can(action, target(principal, tenantId, resource, reach));
  const acting: ActingTenant = {
    tenantId,
    principal,
    ability,
    can,
    authorize: (action, resource, reach) => {
      if (!can(action, resource, reach)) throw refused(action, resource);
    },
  };
  const elsewhere = tenantId !== principal.tenantId && principal.tenantId !== PLATFORM_TENANT_ID;
  const self =
    request.subjectId !== undefined &&
    ctx.actor.type === 'user' &&
    ctx.actor.id === request.subjectId &&
    tenantId === principal.tenantId;
  if (!elsewhere && (self || can(request.action, request.resource, request.reach))) return acting;
  throw request.refusal
    ? new DomainError(request.refusal.code, request.refusal.message)
    : refused(request.action, request.resource);
}

/** The record a check is made on: the acting tenant's, whatever the fields given say. */
function target(
  principal: Principal,
  tenantId: string,
  resource: Resource,
  reach: Reach,
): ResourceRecord {
  const fields = recordFieldsOf(resource);
  if (reach === 'every-tenant') return record(resource, {});
  if (reach === 'tenant') return record(resource, { [fields.tenant]: tenantId });
  if (reach === 'some')
    return record(resource, { [fields.tenant]: tenantId, [fields.owner]: principal.actorId });
  return record(resource, { ...reach, [fields.tenant]: tenantId });
}

const refused = (action: Action, resource: Resource) =>
  new DomainError(ErrorCode.Forbidden, `not allowed to ${action} ${resource}`, {
    action,
    resource,
  });

/**
 * Subject access or erasure of a person's data in a service that holds some: the subjects
 * themselves, or a caller whose permissions on that user allow the action, in that tenant.
 */
export function assertMayActOnPersonalData(
  ctx: RequestContext,
  action: 'manage' | 'delete',
  request: { tenantId: string; subjectId: string },
): void {
  actingTenant(ctx, {
    tenantId: request.tenantId,
    action,
    resource: 'User',
    reach: { id: request.subjectId },
    subjectId: request.subjectId,
    refusal: { code: ErrorCode.Forbidden, message: `not allowed to ${action} this user's data` },
  });
}
