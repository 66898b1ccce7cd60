import { actingTenant } from '@lattice/authz';
import {
  DomainError,
  ErrorCode,
  PLATFORM_TENANT_ID,
  type Action,
  type Classification,
} from '@lattice/contracts';
import type { RequestContext } from '@lattice/request-context';
import { clearanceOfRoles } from './retrieval/clearance';

const hiddenCollection = { code: ErrorCode.NotFound, message: 'no such collection' } as const;
const hiddenDocument = { code: ErrorCode.NotFound, message: 'no such document' } as const;

/** Who acts on a tenant's collections and documents, and how much of them they may read. */
export interface RagActor {
  tenantId: string;
  /** The user, API key owner or service that acts, kept as a record's owner. */
  ownerId: string;
  /** The highest classification shown to it. */
  clearance: Classification;
}

/**
 * Who may do what with collections and documents, from the caller's CASL ability: tenant
 * roles reach their own tenant's; a service (the ingest and answering jobs) names the tenant
 * it acts for. The platform tenant holds no documents.
 */
export const ragAccess = {
  collections(ctx: RequestContext, action: Action, tenantId?: string): RagActor {
    return acting(ctx, action, 'Collection', tenantId, hiddenCollection);
  },

  documents(ctx: RequestContext, action: Action, tenantId?: string): RagActor {
    return acting(ctx, action, 'Document', tenantId, hiddenDocument);
  },

  /** Asking a collection a question: the `query` action on collections. */
  asking(ctx: RequestContext, tenantId?: string): RagActor {
    return acting(ctx, 'query', 'Collection', tenantId, hiddenCollection);
  },

  hiddenCollection: () => new DomainError(hiddenCollection.code, hiddenCollection.message),
  hiddenDocument: () => new DomainError(hiddenDocument.code, hiddenDocument.message),
};

function acting(
  ctx: RequestContext,
  action: Action,
  resource: 'Collection' | 'Document',
  tenantId: string | undefined,
  hidden: { code: ErrorCode.NotFound; message: string },
): RagActor {
  if (ctx.actor.type === 'service') {
    const forTenant = tenantId ?? ctx.tenantId ?? undefined;
    if (!forTenant)
      throw new DomainError(ErrorCode.ValidationFailed, 'a service names the tenant it acts for', {
        field: 'tenantId',
      });
    return {
      tenantId: forTenant,
      ownerId: `service:${ctx.actor.id}`,
      clearance: clearanceOfRoles(ctx.actor.roles),
    };
  }
  const granted = actingTenant(ctx, {
    tenantId,
    action,
    resource,
    reach: 'tenant',
    ...(action === 'create' ? {} : { refusal: hidden }),
  });
  if (granted.tenantId === PLATFORM_TENANT_ID) {
    if (action === 'create')
      throw new DomainError(ErrorCode.Forbidden, 'collections and documents are held by tenants');
    throw new DomainError(hidden.code, hidden.message);
  }
  return {
    tenantId: granted.tenantId,
    ownerId: granted.principal.actorId,
    clearance: clearanceOfRoles(ctx.actor.roles),
  };
}
