import { ErrorCode } from '@lattice/contracts';
import { actingTenant } from '@lattice/authz';
import type { RequestContext } from '@lattice/request-context';

/**
 * Whose trail a call reads: the caller's own tenant unless it names another, and only where
 * its permissions reach (`read:AuditEvent` of that tenant; platform roles reach every one,
 * and a platform caller naming none reads the platform's own trail).
 */
export function auditTenant(ctx: RequestContext, requested: string | undefined): string {
  return actingTenant(ctx, {
    tenantId: requested,
    action: 'read',
    resource: 'AuditEvent',
    refusal: {
      code: ErrorCode.Forbidden,
      message: 'reading this audit trail needs read:AuditEvent on its tenant',
    },
  }).tenantId;
}

/**
 * Whose data subject a call concerns: the subjects themselves, or a caller whose permissions
 * on that user allow the action (`manage` for subject access, `delete` for erasure).
 */
export function subjectTenant(
  ctx: RequestContext,
  requested: string | undefined,
  subjectId: string,
  action: 'read' | 'update' | 'delete' | 'manage' = 'manage',
): string {
  return actingTenant(ctx, {
    tenantId: requested,
    action,
    resource: 'User',
    reach: { id: subjectId },
    subjectId,
    refusal: {
      code: ErrorCode.Forbidden,
      message: `not allowed to ${action} this data subject's records`,
    },
  }).tenantId;
}
