import { createHash } from 'node:crypto';
import { escapeText, isCleanText, type AuditEventInput } from '@lattice/contracts';

/*
 * A refused call must still be recorded, and it is hostile input that gets calls refused: an
 * id with a NUL in it, a name of lone surrogates, a path param of ten thousand characters. The
 * contract cannot store those as they are, so the recorder rewrites the text it was given into
 * something it can (escaped, truncated with a marker, or hashed) instead of dropping the event.
 * What the calling code itself decides (the action, the outcome, the size of its metadata) is
 * left alone: an event wrong in those is a defect of the caller and still refused.
 */

/** Free text: characters the contract refuses written as escapes, cut to `max` with a marker. */
export function auditText(value: string, max: number): string {
  const escaped = escapeText(value);
  if (escaped.length <= max) return escaped;
  const marker = `…[+${escaped.length - max}]`;
  let cut = escaped.slice(0, Math.max(0, max - marker.length));
  // never leave half a surrogate pair at the cut
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return cut + marker;
}

/**
 * An identifier: kept when the contract can hold it as it is, otherwise its SHA-256, so the
 * events of one odd id still group together without the trail carrying the odd bytes.
 */
export function auditId(value: string, max = 200): string {
  if (value.length > 0 && value.length <= max && isCleanText(value)) return value;
  return `sha256:${createHash('sha256').update(escapeText(value), 'utf8').digest('hex')}`;
}

/** Every string of a metadata value, keys included, escaped; walked with a bounded depth. */
function auditJson(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return escapeText(value);
  if (value === null || typeof value !== 'object' || depth >= 32) return value;
  if (Array.isArray(value)) return value.map((v) => auditJson(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [
      auditText(key, 100) || '(empty)',
      auditJson(child, depth + 1),
    ]),
  );
}

const mapText = <T>(value: T, f: (s: string) => string): T =>
  (typeof value === 'string' ? f(value) : value) as T;

/**
 * The event with every text field made storable: ids hashed when they are not ids, free text
 * escaped and cut to its bound, metadata strings escaped. Valid values come out unchanged.
 */
export function storableAuditEvent<E extends AuditEventInput>(event: E): E {
  const { actor, resource } = event;
  return {
    ...event,
    actor: {
      ...actor,
      id: mapText(actor.id, (s) => auditId(s)),
      ...(actor.ownerId !== undefined
        ? { ownerId: mapText(actor.ownerId, (s) => auditId(s)) }
        : {}),
      ...(Array.isArray(actor.roles)
        ? { roles: actor.roles.map((r) => mapText(r, (s) => auditText(s, 100))) }
        : {}),
    },
    resource: {
      ...resource,
      type: mapText(resource.type, (s) => auditText(s, 64) || 'unknown'),
      ...(resource.id !== undefined ? { id: mapText(resource.id, (s) => auditId(s)) } : {}),
    },
    ...(event.userAgent !== undefined
      ? { userAgent: mapText(event.userAgent, (s) => auditText(s, 512)) }
      : {}),
    ...(event.requestId !== undefined
      ? { requestId: mapText(event.requestId, (s) => auditId(s)) }
      : {}),
    ...(event.subjectId !== undefined
      ? { subjectId: mapText(event.subjectId, (s) => auditId(s)) }
      : {}),
    ...(event.metadata !== undefined
      ? { metadata: auditJson(event.metadata) as E['metadata'] }
      : {}),
    ...(Array.isArray(event.personal)
      ? { personal: event.personal.map((k) => mapText(k, (s) => auditText(s, 100) || '(empty)')) }
      : {}),
  };
}
