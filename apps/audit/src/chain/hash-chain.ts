import { hash as digest } from 'node:crypto';
import type { ChainBreak } from '@lattice/contracts';
import { canonicalJson, jsonString } from './canonical-json';

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
  /**
   * What identifies the person acting, sealed as one envelope under their key; absent where
   * nothing is sealed, and in rows written before the envelope (whose hashes it is not part of).
   */
  actorSealed?: string;
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

/** The members of an event the hash covers, in canonical (sorted) order, each with its key. */
const HASHED = (
  [
    'tenantId',
    'seq',
    'id',
    'occurredAt',
    'recordedAt',
    'actorType',
    'actorId',
    'actorKey',
    'actorSealed',
    'actorRoles',
    'action',
    'resourceType',
    'resourceId',
    'outcome',
    'sourceIp',
    'userAgent',
    'requestId',
    'traceId',
    'metadata',
    'personal',
    'subjectKey',
  ] satisfies (keyof ChainedEvent)[]
)
  .sort()
  .map((key) => ({ key, prefix: `${JSON.stringify(key)}:` }));

/**
 * The canonical JSON of the event's hashed members: byte for byte what `canonicalJson` gives
 * for an object of just those members, written without building that object or sorting its
 * keys for every event (only the free-form values, metadata and the arrays, go through the
 * general serialiser).
 */
export function chainContent(event: ChainedEvent): string {
  let out = '';
  for (const { key, prefix } of HASHED) {
    const value = event[key];
    if (value === undefined) continue;
    out += `${out ? ',' : '{'}${prefix}${typeof value === 'string' ? jsonString(value) : canonicalJson(value)}`;
  }
  return out ? `${out}}` : '{}';
}

/**
 * SHA-256 over the previous hash and the canonical form of the event (in one call: a hash
 * object per event costs as much again as the digest).
 */
export function chainHash(event: ChainedEvent, prevHash: string): string {
  return digest('sha256', `${prevHash}\n${chainContent(event)}`, 'hex');
}

/** Numbers and links events after the chain's head, in the order given. */
export function extendChain(
  head: ChainPosition,
  events: Omit<ChainedEvent, 'seq'>[],
): { events: StoredEvent[]; head: ChainPosition } {
  let { seq, hash } = head;
  const linked = events.map((event) => {
    seq += 1;
    // one object per event: the hash covers only the members in HASHED, so it is taken from
    // the stored row itself before its own hash is filled in
    const stored: StoredEvent = { ...event, seq, prevHash: hash, hash: '' };
    stored.hash = chainHash(stored, hash);
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
