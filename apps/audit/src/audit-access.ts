import { DomainError, ErrorCode, PLATFORM_TENANT_ID } from '@lattice/contracts';
import { isPlatformAdmin, type RequestContext } from '@lattice/messaging';

/** Roles of a tenant that may read its audit trail and answer for its data subjects. */
export const AUDIT_READERS = ['tenant-owner', 'tenant-admin', 'auditor'];

/**
 * Whose trail a call reads. Platform administrators name any tenant (the platform's own trail
 * when they name none); everyone else reads their own tenant's, given a reader role, and is
 * refused another's.
 */
export function auditTenant(ctx: RequestContext, requested: string | undefined): string {
  if (isPlatformAdmin(ctx)) return requested ?? PLATFORM_TENANT_ID;
  if (!ctx.tenantId) throw forbidden('this call needs a tenant');
  if (requested !== undefined && requested !== ctx.tenantId) {
    throw forbidden('you may read only your own tenant’s audit trail');
  }
  if (!ctx.actor.roles.some((role) => AUDIT_READERS.includes(role))) {
    throw forbidden('reading the audit trail needs an owner, admin or auditor role');
  }
  return ctx.tenantId;
}

/** Whose data subject a call concerns: as above, or the subject themselves. */
export function subjectTenant(
  ctx: RequestContext,
  requested: string | undefined,
  subjectId: string,
): string {
  const own =
    ctx.tenantId !== null &&
    ctx.actor.type === 'user' &&
    ctx.actor.id === subjectId &&
    (requested === undefined || requested === ctx.tenantId);
  return own ? ctx.tenantId! : auditTenant(ctx, requested);
}

export const forbidden = (message: string) => new DomainError(ErrorCode.Forbidden, message);
