import type { RequestContext } from '@lattice/request-context';
import { auditActorOf, type AuditRecord } from './audit-recorder';

/**
 * What the caller did and what it did it to, recorded as a success: who acted and in which
 * request come from the caller's context.
 */
export function auditSuccess(
  ctx: RequestContext,
  event: Omit<AuditRecord, 'actor' | 'outcome' | 'requestId'>,
): AuditRecord {
  const { tenantId, action, resource, ...rest } = event;
  return {
    tenantId,
    actor: auditActorOf(ctx),
    action,
    resource,
    outcome: 'success',
    requestId: ctx.requestId,
    ...rest,
  };
}
