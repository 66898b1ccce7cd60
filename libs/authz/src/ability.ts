import {
  AbilityBuilder,
  createMongoAbility,
  subject as tag,
  type MongoAbility,
  type MongoQuery,
} from '@casl/ability';
import {
  DomainError,
  ErrorCode,
  PLATFORM_RESOURCES,
  PLATFORM_TENANT_ID,
  RESOURCES,
  SCOPES,
  parsePermission,
  type Action,
  type Permission,
  type Resource,
} from '@lattice/contracts';

/** A record as the checks see it: its tenant, and its owner where it has one. */
export type ResourceRecord = Record<string, unknown>;

export type LatticeAbility = MongoAbility<[Action, Resource | 'all' | ResourceRecord], MongoQuery>;

export interface Principal {
  /** The tenant the principal belongs to; the platform tenant for operators. */
  tenantId: string;
  /** A user id, or for an API key the id of the user or service account that owns it. */
  actorId: string;
  permissions: readonly string[];
}

/** The field that names a record's tenant, and the one that names its owner. */
export function recordFieldsOf(resource: Resource): { tenant: string; owner: string } {
  if (resource === 'Tenant') return { tenant: 'id', owner: 'ownerId' };
  if (resource === 'User') return { tenant: 'tenantId', owner: 'id' };
  return { tenant: 'tenantId', owner: 'ownerId' };
}

/**
 * The CASL ability of a principal. Tenant and own scopes become conditions on the record, so
 * `can('read', 'Job')` only says "some jobs": check a record with `authorize(..., record(...))`.
 * A platform-scope permission held outside the platform tenant counts as tenant scope.
 */
export function abilityFor(principal: Principal): LatticeAbility {
  const { can, build } = new AbilityBuilder<LatticeAbility>(createMongoAbility);
  const platform = principal.tenantId === PLATFORM_TENANT_ID;
  for (const text of principal.permissions) {
    const permission = parsePermission(text);
    const scope = permission.scope === 'platform' && !platform ? 'tenant' : permission.scope;
    const resources = permission.resource === 'all' ? RESOURCES : [permission.resource];
    for (const resource of resources) {
      if (scope === 'platform') {
        can(permission.action, resource);
        continue;
      }
      if (PLATFORM_RESOURCES.includes(resource)) continue;
      const fields = recordFieldsOf(resource);
      const conditions: MongoQuery = { [fields.tenant]: principal.tenantId };
      if (scope === 'own') conditions[fields.owner] = principal.actorId;
      can(permission.action, resource, conditions);
    }
  }
  return build();
}

/** Tags a plain record with its resource type, for a record-level check. */
export function record(resource: Resource, fields: ResourceRecord): ResourceRecord {
  return tag(resource, { ...fields });
}

/** Refuses, with a typed error, what the ability does not allow. */
export function authorize(
  ability: LatticeAbility,
  action: Action,
  target: Resource | ResourceRecord,
): void {
  if (!ability.can(action, target)) {
    const resource = typeof target === 'string' ? target : (target.__caslSubjectType__ as string);
    throw new DomainError(ErrorCode.Forbidden, `not allowed to ${action} ${resource}`, {
      action,
      resource,
    });
  }
}

const SCOPE_RANK = Object.fromEntries(SCOPES.map((s, i) => [s, SCOPES.length - i])) as Record<
  (typeof SCOPES)[number],
  number
>;

/** Whether holding `held` includes everything `wanted` grants. */
export function covers(held: Permission, wanted: Permission): boolean {
  const action = held.action === 'manage' || held.action === wanted.action;
  const resource = held.resource === 'all' || held.resource === wanted.resource;
  return action && resource && SCOPE_RANK[held.scope] >= SCOPE_RANK[wanted.scope];
}

/** The permissions of `wanted` that nothing in `held` covers: what may not be handed on. */
export function notCovered(held: readonly string[], wanted: readonly string[]): string[] {
  const heldParsed = held.map(parsePermission);
  return wanted.filter((w) => {
    const p = parsePermission(w);
    return !heldParsed.some((h) => covers(h, p));
  });
}
