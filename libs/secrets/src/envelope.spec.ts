import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvelopeCipher, KeyRing, SecretsError } from './envelope';

const key = (id: string) => ({ id, key: randomBytes(32) });

describe(EnvelopeCipher.name, () => {
  const old = key('old');
  const next = key('next');
  const cipher = new EnvelopeCipher(new KeyRing([old]));

  it('gives back the plaintext, and never the same ciphertext twice', () => {
    const a = cipher.encrypt('the signing key', 'auth.signing-key:1');
    const b = cipher.encrypt('the signing key', 'auth.signing-key:1');
    expect(a).not.toEqual(b);
    expect(a).not.toContain('signing');
    expect(cipher.decrypt(a, 'auth.signing-key:1').toString()).toBe('the signing key');
  });

  it('names the key-encryption key that wrapped each value', () => {
    expect(cipher.keyIdOf(cipher.encrypt('x', 'c'))).toBe('old');
  });

  it('refuses a value moved to another context', () => {
    const sealed = cipher.encrypt('secret', 'auth.signing-key:1');
    expect(() => cipher.decrypt(sealed, 'auth.signing-key:2')).toThrow(SecretsError);
  });

  it('refuses a tampered value', () => {
    const sealed = cipher.encrypt('secret', 'ctx');
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[14]! ^= 1;
    parts[3] = body.toString('base64url');
    expect(() => cipher.decrypt(parts.join('.'), 'ctx')).toThrow(SecretsError);
    expect(() => cipher.decrypt('not-an-envelope', 'ctx')).toThrow(SecretsError);
  });

  it('rotates without a flag day: old values still open, and re-wrap moves them to the new key', () => {
    const before = cipher.encrypt('kept across rotation', 'ctx');
    const rotated = new EnvelopeCipher(new KeyRing([next, old]));
    expect(rotated.decrypt(before, 'ctx').toString()).toBe('kept across rotation');
    expect(rotated.needsRewrap(before)).toBe(true);

    const after = rotated.rewrap(before, 'ctx');
    expect(rotated.keyIdOf(after)).toBe('next');
    expect(rotated.needsRewrap(after)).toBe(false);
    // once the old key is retired, only re-wrapped values open
    const retired = new EnvelopeCipher(new KeyRing([next]));
    expect(retired.decrypt(after, 'ctx').toString()).toBe('kept across rotation');
    expect(() => retired.decrypt(before, 'ctx')).toThrow(/not in the key ring/);
  });
});

describe(KeyRing.name, () => {
  it('reads "id:base64" entries, active first, from a variable or a mounted file', () => {
    const spec = `${KeyRing.generateSpec('a')},${KeyRing.generateSpec('b')}`;
    expect(KeyRing.parse(spec).active.id).toBe('a');
    const dir = mkdtempSync(join(tmpdir(), 'kek-'));
    writeFileSync(join(dir, 'kek'), `${KeyRing.generateSpec('c')}\n${KeyRing.generateSpec('a')}\n`);
    expect(KeyRing.load({ inline: spec, file: join(dir, 'kek') }).active.id).toBe('c');
  });

  it('refuses keys of the wrong size, bad ids, duplicates and an empty ring', () => {
    expect(() => KeyRing.parse(`a:${randomBytes(16).toString('base64')}`)).toThrow(/32 bytes/);
    expect(() => KeyRing.parse(`a b:${randomBytes(32).toString('base64')}`)).toThrow(/key id/);
    const one = KeyRing.generateSpec('a');
    expect(() => KeyRing.parse(`${one},${one}`)).toThrow(/unique/);
    expect(() => KeyRing.load({})).toThrow(/LATTICE_KEK/);
  });
});
