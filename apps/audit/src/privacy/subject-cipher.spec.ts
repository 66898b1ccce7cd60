import { randomBytes } from 'node:crypto';
import { EnvelopeCipher, KeyRing } from '@lattice/secrets';
import { SubjectCipher, isSealed } from './subject-cipher';

const envelope = () => new EnvelopeCipher(KeyRing.parse(KeyRing.generateSpec('audit')));
const cipher = new SubjectCipher(envelope(), randomBytes(32));

describe(SubjectCipher.name, () => {
  it('seals a value so that only its key, in its place, opens it', () => {
    const key = cipher.newKey();
    const sealed = cipher.seal(key, 'alice@example.com', 'ctx-1');
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('alice');
    expect(cipher.open(key, sealed, 'ctx-1')).toBe('alice@example.com');
    expect(() => cipher.open(cipher.newKey(), sealed, 'ctx-1')).toThrow();
    // moved to another event or field, it does not open either
    expect(() => cipher.open(key, sealed, 'ctx-2')).toThrow();
    expect(cipher.seal(key, 'alice@example.com', 'ctx-1')).not.toBe(sealed);
  });

  it('never seals two values under the same IV', () => {
    const key = cipher.newKey();
    const ivs = Array.from({ length: 2_000 }, () =>
      Buffer.from(cipher.seal(key, 'x', 'ctx').slice('enc:v1:'.length), 'base64url')
        .subarray(0, 12)
        .toString('hex'),
    );
    expect(new Set(ivs).size).toBe(ivs.length);
  });

  it('wraps subject keys under the key-encryption key, bound to their id', () => {
    const key = cipher.newKey();
    const wrapped = cipher.wrap(key, 'k1');
    expect(cipher.unwrap(wrapped, 'k1').equals(key)).toBe(true);
    expect(() => cipher.unwrap(wrapped, 'k2')).toThrow();
    const other = new SubjectCipher(envelope(), randomBytes(32));
    expect(() => other.unwrap(wrapped, 'k1')).toThrow();
    expect(wrapped).not.toContain(key.toString('base64url'));
  });

  it('looks a subject up by a keyed digest, per tenant, that does not contain them', () => {
    const a = cipher.lookup('tenant-a', 'user-1');
    expect(a).toBe(cipher.lookup('tenant-a', 'user-1'));
    expect(a).not.toBe(cipher.lookup('tenant-b', 'user-1'));
    expect(a).not.toContain('user-1');
  });
});
