import type { AuditEvent, AuditEventView } from '@lattice/contracts';
import type { ChainedEvent, StoredEvent } from '../chain/hash-chain';
import { SubjectCipher, isSealed } from './subject-cipher';
import type { SubjectKey } from './subject-keys.repository';

/**
 * Whose personal data an event carries: the person acting (a user, or the owner an API key
 * speaks for), and whom its personal metadata is about.
 */
export function subjectsOf(event: AuditEvent): { actor: string | null; subject: string | null } {
  const actor =
    event.actor.type === 'user'
      ? event.actor.id
      : event.actor.type === 'api-key'
        ? (event.actor.ownerId ?? null)
        : null;
  const personal = (event.personal ?? []).length > 0;
  return { actor, subject: personal ? (event.subjectId ?? actor) : null };
}

/**
 * Turns an event into the row that is stored and hashed, and back. The acting user's id, the
 * source IP and user agent (under the acting person's key: the user's, or for an API key its
 * owner's) and the personal metadata fields (under their subject's key) are sealed; everything
 * else, an API key's own id included, is stored as it came.
 */
export class EventSealer {
  constructor(private readonly cipher: SubjectCipher) {}

  seal(
    event: AuditEvent,
    keys: Map<string, SubjectKey>,
    recordedAt: Date,
  ): Omit<ChainedEvent, 'seq'> {
    const { actor, subject } = subjectsOf(event);
    const actorKey = actor ? keys.get(actor)! : null;
    const subjectKey = subject ? keys.get(subject)! : null;
    const at = (field: string) => `${event.tenantId}:${event.id}:${field}`;
    const personalOf = (value: string | undefined, field: string) =>
      value === undefined
        ? null
        : actorKey
          ? this.cipher.seal(actorKey.key!, value, at(field))
          : value;
    // with nobody to erase them for, personal fields are kept as they came
    const personal = subjectKey ? [...new Set(event.personal ?? [])].sort() : [];
    // copied only where a field is sealed: the event's own metadata is never changed
    const metadata: Record<string, unknown> =
      personal.length > 0 ? { ...event.metadata } : event.metadata;
    for (const field of personal) {
      metadata[field] = this.cipher.seal(
        subjectKey!.key!,
        JSON.stringify(metadata[field]),
        at(`metadata.${field}`),
      );
    }
    return {
      tenantId: event.tenantId,
      id: event.id,
      occurredAt: new Date(event.occurredAt).toISOString(),
      recordedAt: recordedAt.toISOString(),
      actorType: event.actor.type,
      actorId:
        event.actor.type === 'user' ? personalOf(event.actor.id, 'actor.id')! : event.actor.id,
      actorKey: actorKey?.keyId ?? null,
      actorRoles: event.actor.roles,
      action: event.action,
      resourceType: event.resource.type,
      resourceId: event.resource.id ?? null,
      outcome: event.outcome,
      sourceIp: personalOf(event.sourceIp, 'sourceIp'),
      userAgent: personalOf(event.userAgent, 'userAgent'),
      requestId: event.requestId ?? null,
      traceId: event.traceId ?? null,
      metadata,
      personal,
      subjectKey: subjectKey?.keyId ?? null,
    };
  }

  /** The event as callers see it: sealed fields opened where their key still exists. */
  open(stored: StoredEvent, keys: Map<string, Buffer>): AuditEventView {
    const erased: string[] = [];
    const at = (field: string) => `${stored.tenantId}:${stored.id}:${field}`;
    const actorKey = stored.actorKey ? keys.get(stored.actorKey) : undefined;
    const subjectKey = stored.subjectKey ? keys.get(stored.subjectKey) : undefined;
    const personalOf = (value: string | null, field: string): string | null => {
      if (value === null || !isSealed(value)) return value;
      if (actorKey) return this.cipher.open(actorKey, value, at(field));
      erased.push(field);
      return null;
    };
    const metadata: Record<string, unknown> = { ...stored.metadata };
    for (const field of stored.personal) {
      if (subjectKey) {
        metadata[field] = JSON.parse(
          this.cipher.open(subjectKey, metadata[field] as string, at(`metadata.${field}`)),
        );
      } else {
        metadata[field] = null;
        erased.push(`metadata.${field}`);
      }
    }
    return {
      id: stored.id,
      tenantId: stored.tenantId,
      seq: stored.seq,
      occurredAt: stored.occurredAt,
      recordedAt: stored.recordedAt,
      actor: {
        type: stored.actorType as AuditEventView['actor']['type'],
        id: personalOf(stored.actorId, 'actor.id'),
        roles: stored.actorRoles,
      },
      action: stored.action,
      resource: {
        type: stored.resourceType,
        ...(stored.resourceId !== null ? { id: stored.resourceId } : {}),
      },
      outcome: stored.outcome as AuditEventView['outcome'],
      sourceIp: personalOf(stored.sourceIp, 'sourceIp'),
      userAgent: personalOf(stored.userAgent, 'userAgent'),
      requestId: stored.requestId,
      traceId: stored.traceId,
      metadata,
      erased,
      hash: stored.hash,
    };
  }
}
