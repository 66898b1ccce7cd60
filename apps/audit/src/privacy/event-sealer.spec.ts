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
});
