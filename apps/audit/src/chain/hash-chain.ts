import { createHash } from 'node:crypto';
import type { ChainBreak } from '@lattice/contracts';
import { canonicalJson } from './canonical-json';

/** The hash the first event of every chain links to. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * An event exactly as it is stored: personal fields already sealed, so the chain covers the
 * ciphertext and erasing a subject's key leaves every hash intact.
 */
export interface ChainedEvent {
  tenantId: string;
  seq: number;
  id: string;
  occurredAt: string;
  recordedAt: string;
  actorType: string;
  actorId: string;
  actorKey: string | null;
  actorRoles: string[];
  action: string;
  resourceType: string;
  resourceId: string | null;
  outcome: string;
  sourceIp: string | null;
  userAgent: string | null;
  requestId: string | null;
  traceId: string | null;
  metadata: Record<string, unknown>;
  personal: string[];
  subjectKey: string | null;
}

export interface StoredEvent extends ChainedEvent {
  prevHash: string;
  hash: string;
}

export interface ChainPosition {
  seq: number;
  hash: string;
}

/** SHA-256 over the previous hash and the canonical form of the event. */
export function chainHash(event: ChainedEvent, prevHash: string): string {
  const content: ChainedEvent = {
    tenantId: event.tenantId,
    seq: event.seq,
    id: event.id,
    occurredAt: event.occurredAt,
    recordedAt: event.recordedAt,
    actorType: event.actorType,
    actorId: event.actorId,
    actorKey: event.actorKey,
    actorRoles: event.actorRoles,
    action: event.action,
    resourceType: event.resourceType,
    resourceId: event.resourceId,
    outcome: event.outcome,
    sourceIp: event.sourceIp,
    userAgent: event.userAgent,
    requestId: event.requestId,
    traceId: event.traceId,
    metadata: event.metadata,
    personal: event.personal,
    subjectKey: event.subjectKey,
  };
  return createHash('sha256')
    .update(prevHash)
    .update('\n')
    .update(canonicalJson(content))
    .digest('hex');
}

/** Numbers and links events after the chain's head, in the order given. */
export function extendChain(
  head: ChainPosition,
  events: Omit<ChainedEvent, 'seq'>[],
): { events: StoredEvent[]; head: ChainPosition } {
  let { seq, hash } = head;
  const linked = events.map((event) => {
    seq += 1;
    const numbered = { ...event, seq };
    const stored: StoredEvent = { ...numbered, prevHash: hash, hash: chainHash(numbered, hash) };
    hash = stored.hash;
    return stored;
  });
  return { events: linked, head: { seq, hash } };
}

/**
 * Walks stored events in sequence order from a trusted position and names the first one that
 * does not follow: a gap (a deleted row), a row whose content no longer gives its hash (an
 * edited or reordered row), or a row that does not link to the one before it.
 */
export class ChainWalker {
  private expected: ChainPosition;
  private checked = 0;

  constructor(from: ChainPosition) {
    this.expected = { ...from };
  }

  get position(): ChainPosition {
    return { ...this.expected };
  }

  get eventsChecked(): number {
    return this.checked;
  }

  next(event: StoredEvent): ChainBreak | null {
    const seq = this.expected.seq + 1;
    if (event.seq !== seq) {
      return {
        seq,
        eventId: null,
        reason: 'missing-event',
        detail: `expected event ${seq}, found ${event.seq}`,
      };
    }
    if (chainHash(event, event.prevHash) !== event.hash) {
      return {
        seq,
        eventId: event.id,
        reason: 'hash-mismatch',
        detail: 'the event’s content does not give its stored hash',
      };
    }
    if (event.prevHash !== this.expected.hash) {
      return {
        seq,
        eventId: event.id,
        reason: 'link-mismatch',
        detail: 'the event does not link to the hash of the event before it',
      };
    }
    this.checked += 1;
    this.expected = { seq, hash: event.hash };
    return null;
  }
}
