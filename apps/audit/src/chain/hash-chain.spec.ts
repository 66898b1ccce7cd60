import fc from 'fast-check';
import { createHash, randomUUID } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import {
  ChainWalker,
  GENESIS_HASH,
  chainContent,
  chainHash,
  extendChain,
  type ChainedEvent,
  type StoredEvent,
} from './hash-chain';

const tenantId = randomUUID();
/** The hash of the pinned event below, as the first release of the chain computed it. */
const PINNED_HASH = '10cb9467ffe31decca21f48c3710726d2826d5426019a31c99b4ec065acd6ede';
const event = (n: number): Omit<ChainedEvent, 'seq'> => ({
  tenantId,
  id: randomUUID(),
  occurredAt: new Date(Date.UTC(2031, 0, 1, 0, 0, n)).toISOString(),
  recordedAt: new Date(Date.UTC(2031, 0, 1, 0, 1, n)).toISOString(),
  actorType: 'service',
  actorId: 'svc',
  actorKey: null,
  actorRoles: [],
  action: 'test.happened',
  resourceType: 'Thing',
  resourceId: `t-${n}`,
  outcome: 'success',
  sourceIp: null,
  userAgent: null,
  requestId: null,
  traceId: null,
  metadata: { n, nested: { b: 1, a: [1, 'x'] } },
  personal: [],
  subjectKey: null,
});

const walk = (events: StoredEvent[]) => {
  const walker = new ChainWalker({ seq: 0, hash: GENESIS_HASH });
  for (const e of events) {
    const broken = walker.next(e);
    if (broken) return broken;
  }
  return null;
};

describe('hash chain', () => {
  it('serialises objects the same whatever the order of their keys', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"x":2,"y":1}]},"b":1}',
    );
    expect(canonicalJson({ a: undefined, b: 'é"' })).toBe('{"b":"é\\""}');
  });

  it('writes every value as JSON.stringify writes it with its keys sorted, escapes and lone surrogates included', () => {
    const sortedCopy = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(sortedCopy);
      if (value === null || typeof value !== 'object') return value;
      const record = value as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(record)
          .sort()
          .map((key) => [key, sortedCopy(record[key])]),
      );
    };
    const text = fc.string({ unit: 'binary', maxLength: 12 });
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        text,
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(text, tie('value'), { maxKeys: 5 }),
      ),
    })).value;
    fc.assert(
      fc.property(json, (value) => {
        expect(canonicalJson(value)).toBe(JSON.stringify(sortedCopy(value)));
      }),
      { numRuns: 1_000 },
    );
    expect(canonicalJson({ b: '\ud800', a: ['\u0000\n"\\', '𝄞'] })).toBe(
      '{"a":["\\u0000\\n\\"\\\\","𝄞"],"b":"\\ud800"}',
    );
  });

  it('gives a hash that depends on the content, the position and the previous hash', () => {
    const e = { ...event(1), seq: 1 };
    const h = chainHash(e, GENESIS_HASH);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(
      chainHash({ ...e, metadata: { nested: { a: [1, 'x'], b: 1 }, n: 1 } }, GENESIS_HASH),
    ).toBe(h);
    expect(chainHash({ ...e, outcome: 'denied' }, GENESIS_HASH)).not.toBe(h);
    expect(chainHash({ ...e, seq: 2 }, GENESIS_HASH)).not.toBe(h);
    expect(chainHash(e, 'f'.repeat(64))).not.toBe(h);
  });

  it('hashes exactly the canonical JSON of the hashed members, so chains stored before still verify', () => {
    const hashedMembers = (e: ChainedEvent) => {
      const { tenantId, seq, id, occurredAt, recordedAt, actorType, actorId, actorKey } = e;
      const { actorRoles, action, resourceType, resourceId, outcome, sourceIp, userAgent } = e;
      const { requestId, traceId, metadata, personal, subjectKey, actorSealed } = e;
      return {
        ...{ tenantId, seq, id, occurredAt, recordedAt, actorType, actorId, actorKey },
        ...{ actorRoles, action, resourceType, resourceId, outcome, sourceIp, userAgent },
        ...{ requestId, traceId, metadata, personal, subjectKey, actorSealed },
      };
    };
    const text = fc.string({ unit: 'binary', maxLength: 12 });
    const orNull = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
    const stored = fc.record({
      tenantId: fc.uuid(),
      seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      id: fc.uuid(),
      occurredAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      recordedAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      actorType: text,
      actorId: text,
      actorKey: orNull(fc.uuid()),
      // absent from rows written before the envelope, and then not part of their hash
      actorSealed: fc.option(text, { nil: undefined }),
      actorRoles: fc.array(text, { maxLength: 4 }),
      action: text,
      resourceType: text,
      resourceId: orNull(text),
      outcome: text,
      sourceIp: orNull(text),
      userAgent: orNull(text),
      requestId: orNull(text),
      traceId: orNull(text),
      metadata: fc.dictionary(text, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }),
      personal: fc.array(text, { maxLength: 3 }),
      subjectKey: orNull(fc.uuid()),
      // members outside the hash, as a stored row has them
      prevHash: fc.constant('a'.repeat(64)),
      hash: fc.constant('b'.repeat(64)),
    });
    fc.assert(
      fc.property(stored, (e) => {
        const canonical = canonicalJson(hashedMembers(e));
        expect(chainContent(e)).toBe(canonical);
        const hash = createHash('sha256').update(e.prevHash).update('\n').update(canonical);
        expect(chainHash(e, e.prevHash)).toBe(hash.digest('hex'));
      }),
      { numRuns: 500 },
    );
    // one event's hash pinned: a change to the serialisation would strand every stored chain
    const pinned: ChainedEvent = {
      ...event(7),
      tenantId: '5c4e7f0e-8a3b-4d55-9b7e-0f8a2f7c1d11',
      id: '0b6f3a43-2f2c-4b8e-9d8b-6d1e6c2d9a01',
      seq: 7,
      actorRoles: ['developer', 'ops'],
      metadata: { z: 'zoë ✓ 𝄞', a: [1.5, null, { y: true, x: 'é"' }] },
      personal: ['z'],
    };
    expect(chainHash(pinned, GENESIS_HASH)).toBe(PINNED_HASH);
  });

  it('numbers and links a batch after the head, and the walk accepts it', () => {
    const first = extendChain({ seq: 0, hash: GENESIS_HASH }, [event(1), event(2)]);
    const second = extendChain(first.head, [event(3)]);
    const all = [...first.events, ...second.events];
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(all[2]!.prevHash).toBe(all[1]!.hash);
    expect(second.head).toEqual({ seq: 3, hash: all[2]!.hash });
    expect(walk(all)).toBeNull();
  });

  it('names the first broken link: an edit, a gap, a swap, a relink', () => {
    const { events } = extendChain({ seq: 0, hash: GENESIS_HASH }, [1, 2, 3, 4].map(event));
    expect(walk(events.map((e, i) => (i === 1 ? { ...e, outcome: 'error' } : e)))).toMatchObject({
      seq: 2,
      reason: 'hash-mismatch',
    });
    expect(walk([events[0]!, events[2]!, events[3]!])).toMatchObject({
      seq: 2,
      reason: 'missing-event',
    });
    const swapped = [events[0]!, { ...events[2]!, seq: 2 }, { ...events[1]!, seq: 3 }, events[3]!];
    expect(walk(swapped)).toMatchObject({ seq: 2, reason: 'hash-mismatch' });
    // an event re-hashed onto a different predecessor no longer links to the real one
    const forged = { ...events[2]!, prevHash: 'a'.repeat(64) };
    forged.hash = chainHash(forged, forged.prevHash);
    expect(walk([events[0]!, events[1]!, forged])).toMatchObject({
      seq: 3,
      reason: 'link-mismatch',
    });
  });
});
