import type { AuditActor } from '@lattice/contracts';
import type { RequestContext } from '@lattice/messaging';

/** The caller as the audit trail records it. */
export function actorOf(ctx: RequestContext): AuditActor {
  return { type: ctx.actor.type, id: ctx.actor.id, roles: ctx.actor.roles };
}
