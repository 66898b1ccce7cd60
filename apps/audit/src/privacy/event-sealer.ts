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

/** An instant as `toISOString` writes it (UTC, milliseconds), which most events carry already. */
const CANONICAL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The instant in its one stored form: an offset or other precision is rewritten in UTC. */
function canonicalInstant(value: string): string {
  return CANONICAL_INSTANT.test(value) ? value : new Date(value).toISOString();
}

/** What the envelope of the person acting holds: each field only where the event had it. */
interface ActorEnvelope {
  id?: string;
  sourceIp?: string;
  userAgent?: string;
}

/** In a row with an envelope, a field the envelope holds reads this in its own column. */
const IN_ENVELOPE = '';

/**
 * Turns an event into the row that is stored and hashed, and back. What identifies the person
 * acting (a user's id, the source IP and the user agent) is sealed as one envelope under their
 * key (the user's, or for an API key its owner's) in `actorSealed`, its fields' own columns
 * reading the empty string where the envelope holds them (NULL where the event had none); the
 * personal metadata fields are sealed under their subject's key. Everything else, an API key's
 * own id included, is stored as it came.
 *
 * Rows written before the envelope have those fields sealed one by one (no `actorSealed`):
 * they are opened, and read as erased, field by field as before.
 */
export class EventSealer {
  /** The last time recorded, as text: a batch's events all share one. */
  private recorded: { at: Date | null; text: string } = { at: null, text: '' };

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
    // one seal for all that identifies the person acting: a seal costs as much as the rest
    // of the event's work together
    const envelope: ActorEnvelope = {};
    if (event.actor.type === 'user') envelope.id = event.actor.id;
    if (event.sourceIp !== undefined) envelope.sourceIp = event.sourceIp;
    if (event.userAgent !== undefined) envelope.userAgent = event.userAgent;
    const sealing = actorKey !== null && Object.keys(envelope).length > 0;
    const column = (value: string | undefined) =>
      value === undefined ? null : sealing ? IN_ENVELOPE : value;
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
      occurredAt: canonicalInstant(event.occurredAt),
      recordedAt: this.recordedText(recordedAt),
      actorType: event.actor.type,
      actorId: event.actor.type === 'user' ? column(event.actor.id)! : event.actor.id,
      actorKey: actorKey?.keyId ?? null,
      // every row has the member, so every row has one shape; undefined is neither hashed nor stored
      actorSealed: sealing
        ? this.cipher.seal(actorKey!.key!, JSON.stringify(envelope), at('actor'))
        : undefined,
      actorRoles: event.actor.roles,
      action: event.action,
      resourceType: event.resource.type,
      resourceId: event.resource.id ?? null,
      outcome: event.outcome,
      sourceIp: column(event.sourceIp),
      userAgent: column(event.userAgent),
      requestId: event.requestId ?? null,
      traceId: event.traceId ?? null,
      metadata,
      personal,
      subjectKey: subjectKey?.keyId ?? null,
    };
  }

  private recordedText(at: Date): string {
    if (this.recorded.at !== at) this.recorded = { at, text: at.toISOString() };
    return this.recorded.text;
  }

  /** The event as callers see it: sealed fields opened where their key still exists. */
  open(stored: StoredEvent, keys: Map<string, Buffer>): AuditEventView {
    const erased: string[] = [];
    const at = (field: string) => `${stored.tenantId}:${stored.id}:${field}`;
    const actorKey = stored.actorKey ? keys.get(stored.actorKey) : undefined;
    const subjectKey = stored.subjectKey ? keys.get(stored.subjectKey) : undefined;
    const actor = stored.actorSealed
      ? this.openEnvelope(stored, actorKey, erased)
      : {
          id: this.openField(stored, 'actor.id', stored.actorId, actorKey, erased),
          sourceIp: this.openField(stored, 'sourceIp', stored.sourceIp, actorKey, erased),
          userAgent: this.openField(stored, 'userAgent', stored.userAgent, actorKey, erased),
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
        id: actor.id,
        roles: stored.actorRoles,
      },
      action: stored.action,
      resource: {
        type: stored.resourceType,
        ...(stored.resourceId !== null ? { id: stored.resourceId } : {}),
      },
      outcome: stored.outcome as AuditEventView['outcome'],
      sourceIp: actor.sourceIp,
      userAgent: actor.userAgent,
      requestId: stored.requestId,
      traceId: stored.traceId,
      metadata,
      erased,
      hash: stored.hash,
    };
  }

  /**
   * The acting person's fields from their envelope; without their key, those the envelope
   * held (as their columns say) are listed as erased.
   */
  private openEnvelope(
    stored: StoredEvent,
    key: Buffer | undefined,
    erased: string[],
  ): { id: string | null; sourceIp: string | null; userAgent: string | null } {
    const held = (value: string | null) => value === IN_ENVELOPE;
    if (!key) {
      if (held(stored.actorId)) erased.push('actor.id');
      if (held(stored.sourceIp)) erased.push('sourceIp');
      if (held(stored.userAgent)) erased.push('userAgent');
      return {
        id: held(stored.actorId) ? null : stored.actorId,
        sourceIp: null,
        userAgent: null,
      };
    }
    const opened = JSON.parse(
      this.cipher.open(key, stored.actorSealed!, `${stored.tenantId}:${stored.id}:actor`),
    ) as ActorEnvelope;
    return {
      id: held(stored.actorId) ? (opened.id ?? null) : stored.actorId,
      sourceIp: opened.sourceIp ?? null,
      userAgent: opened.userAgent ?? null,
    };
  }

  /** A field sealed on its own, as rows before the envelope have them. */
  private openField(
    stored: StoredEvent,
    field: string,
    value: string | null,
    key: Buffer | undefined,
    erased: string[],
  ): string | null {
    if (value === null || !isSealed(value)) return value;
    if (key) return this.cipher.open(key, value, `${stored.tenantId}:${stored.id}:${field}`);
    erased.push(field);
    return null;
  }
}
