import { randomBytes, randomUUID } from 'node:crypto';
import { AuditEvent } from '@lattice/contracts';
import { EnvelopeCipher, KeyRing } from '@lattice/secrets';
import { EventSealer, subjectsOf } from './event-sealer';
import { SubjectCipher } from './subject-cipher';
import type { SubjectKey } from './subject-keys.repository';

const cipher = new SubjectCipher(
  new EnvelopeCipher(KeyRing.parse(KeyRing.generateSpec('audit'))),
  randomBytes(32),
);
const sealer = new EventSealer(cipher);
const owner = randomUUID();
const keyId = randomUUID();

/** A call made with an API key that speaks for `owner`, from their machine. */
const apiKeyCall = AuditEvent.parse({
  id: randomUUID(),
  tenantId: randomUUID(),
  occurredAt: new Date().toISOString(),
  actor: { type: 'api-key', id: keyId, ownerId: owner, roles: ['developer'] },
  action: 'api-key.revoke',
  resource: { type: 'ApiKey', id: randomUUID() },
  outcome: 'success',
  sourceIp: '198.18.7.9',
  userAgent: 'alice-cli/1.0',
});

describe(EventSealer.name, () => {
  it("seals an API-key call's address and user agent under its owner's key, and keeps the key id readable", () => {
    expect(subjectsOf(apiKeyCall)).toEqual({ actor: owner, subject: null });
    const ownerKey: SubjectKey = { keyId: randomUUID(), key: cipher.newKey() };
    const row = sealer.seal(apiKeyCall, new Map([[owner, ownerKey]]), new Date());
    expect(row.actorKey).toBe(ownerKey.keyId);
    expect(row.actorId).toBe(keyId);
    expect(JSON.stringify(row)).not.toContain('198.18.7.9');
    expect(JSON.stringify(row)).not.toContain('alice-cli');

    const stored = { ...row, seq: 1, prevHash: '', hash: '' };
    const readable = sealer.open(stored, new Map([[ownerKey.keyId, ownerKey.key!]]));
    expect(readable).toMatchObject({
      actor: { type: 'api-key', id: keyId },
      sourceIp: '198.18.7.9',
      userAgent: 'alice-cli/1.0',
      erased: [],
    });
    // the owner erased: where and with what is gone, which key acted is not
    const erased = sealer.open(stored, new Map());
    expect(erased).toMatchObject({ actor: { id: keyId }, sourceIp: null, userAgent: null });
    expect(erased.erased).toEqual(['sourceIp', 'userAgent']);
  });

  const userCall = (fields: Partial<AuditEvent> = {}) =>
    AuditEvent.parse({
      ...apiKeyCall,
      id: randomUUID(),
      actor: { type: 'user', id: owner, roles: ['developer'] },
      ...fields,
    });
  const ownerKey: SubjectKey = { keyId: randomUUID(), key: cipher.newKey() };
  const keys = new Map([[owner, ownerKey]]);
  const stored = (row: ReturnType<EventSealer['seal']>) => ({
    ...row,
    seq: 1,
    prevHash: '',
    hash: '',
  });

  it("seals a user's id, address and user agent as one envelope, and opens it", () => {
    const row = sealer.seal(userCall(), keys, new Date());
    expect(row.actorSealed).toMatch(/^enc:v1:/);
    expect({ actorId: row.actorId, sourceIp: row.sourceIp, userAgent: row.userAgent }).toEqual({
      actorId: '',
      sourceIp: '',
      userAgent: '',
    });
    expect(JSON.stringify(row)).not.toMatch(new RegExp(`${owner}|198\\.18|alice-cli`));
    expect(sealer.open(stored(row), new Map([[ownerKey.keyId, ownerKey.key!]]))).toMatchObject({
      actor: { type: 'user', id: owner },
      sourceIp: '198.18.7.9',
      userAgent: 'alice-cli/1.0',
      erased: [],
    });
  });

  it('names as erased only the fields the envelope held', () => {
    const row = sealer.seal(userCall({ userAgent: undefined }), keys, new Date());
    expect(row.userAgent).toBeNull();
    const view = sealer.open(stored(row), new Map());
    expect(view).toMatchObject({ actor: { id: null }, sourceIp: null, userAgent: null });
    expect(view.erased).toEqual(['actor.id', 'sourceIp']);
  });

  it('refuses an envelope moved to another event', () => {
    const [first, second] = [userCall(), userCall()].map((e) => sealer.seal(e, keys, new Date()));
    const moved = stored({ ...second!, actorSealed: first!.actorSealed });
    expect(() => sealer.open(moved, new Map([[ownerKey.keyId, ownerKey.key!]]))).toThrow();
  });

  it('opens and erases rows written before the envelope, each field sealed on its own', () => {
    const event = userCall();
    const at = (field: string) => `${event.tenantId}:${event.id}:${field}`;
    const row = sealer.seal(event, keys, new Date());
    const before = stored({
      ...row,
      actorSealed: undefined,
      actorId: cipher.seal(ownerKey.key!, owner, at('actor.id')),
      sourceIp: cipher.seal(ownerKey.key!, '198.18.7.9', at('sourceIp')),
      userAgent: cipher.seal(ownerKey.key!, 'alice-cli/1.0', at('userAgent')),
    });
    expect(sealer.open(before, new Map([[ownerKey.keyId, ownerKey.key!]]))).toMatchObject({
      actor: { id: owner },
      sourceIp: '198.18.7.9',
      userAgent: 'alice-cli/1.0',
      erased: [],
    });
    expect(sealer.open(before, new Map()).erased).toEqual(['actor.id', 'sourceIp', 'userAgent']);
  });
});
