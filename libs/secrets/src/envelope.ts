import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

const VERSION = 'lev1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** A key-encryption key, named so that every ciphertext can say which one wrapped it. */
export interface KeyEncryptionKey {
  id: string;
  key: Buffer;
}

export class SecretsError extends Error {
  override name = 'SecretsError';
}

/**
 * The key-encryption keys an installation holds. The first is active (wraps new data keys);
 * the others only unwrap, so keys rotate by putting a new one first and re-wrapping later.
 */
export class KeyRing {
  private readonly byId: Map<string, KeyEncryptionKey>;

  constructor(readonly keys: readonly KeyEncryptionKey[]) {
    if (keys.length === 0) throw new SecretsError('the key ring holds no key-encryption key');
    for (const k of keys) {
      if (!KEY_ID.test(k.id)) throw new SecretsError(`key id "${k.id}" is not [A-Za-z0-9_-]{1,32}`);
      if (k.key.length !== KEY_BYTES)
        throw new SecretsError(`key "${k.id}" must be ${KEY_BYTES} bytes, not ${k.key.length}`);
    }
    this.byId = new Map(keys.map((k) => [k.id, k]));
    if (this.byId.size !== keys.length) throw new SecretsError('key ids must be unique');
  }

  /** Parses `id:base64key[,id:base64key...]`, the active key first. */
  static parse(spec: string): KeyRing {
    const keys = spec
      .split(/[,\n]/)
      .map((entry) => entry.trim())
      .filter(Boolean)
      .map((entry) => {
        const colon = entry.indexOf(':');
        if (colon < 1) throw new SecretsError('each key must be written as "id:base64key"');
        return {
          id: entry.slice(0, colon),
          key: Buffer.from(entry.slice(colon + 1), 'base64'),
        };
      });
    return new KeyRing(keys);
  }

  /** The ring from a mounted secret file when one is named, else from the variable itself. */
  static load(source: { inline?: string; file?: string }): KeyRing {
    if (source.file) return KeyRing.parse(readFileSync(source.file, 'utf8'));
    if (source.inline) return KeyRing.parse(source.inline);
    throw new SecretsError('no key-encryption key: set LATTICE_KEK or LATTICE_KEK_FILE');
  }

  static generateSpec(id = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`) {
    return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
  }

  get active(): KeyEncryptionKey {
    return this.keys[0]!;
  }

  get(id: string): KeyEncryptionKey {
    const key = this.byId.get(id);
    if (!key) throw new SecretsError(`key-encryption key "${id}" is not in the key ring`);
    return key;
  }
}

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  return Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new SecretsError('ciphertext is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw new SecretsError('ciphertext does not authenticate (wrong key, context or tampered)');
  }
}

interface Envelope {
  keyId: string;
  wrappedKey: Buffer;
  body: Buffer;
}

function parseEnvelope(text: string): Envelope {
  const parts = text.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION || !KEY_ID.test(parts[1]!))
    throw new SecretsError('not an envelope-encrypted value');
  return {
    keyId: parts[1]!,
    wrappedKey: Buffer.from(parts[2]!, 'base64url'),
    body: Buffer.from(parts[3]!, 'base64url'),
  };
}

/**
 * Envelope encryption with AES-256-GCM: each value gets its own data key, wrapped by the
 * active key-encryption key and stored beside it with that key's id. `context` is bound as
 * associated data (say `auth.signing-key:<kid>`), so a ciphertext moved to another row or
 * purpose no longer decrypts.
 */
export class EnvelopeCipher {
  constructor(private readonly ring: KeyRing) {}

  encrypt(plaintext: string | Buffer, context: string): string {
    const aad = Buffer.from(context, 'utf8');
    const dataKey = randomBytes(KEY_BYTES);
    const kek = this.ring.active;
    const wrapped = seal(kek.key, dataKey, Buffer.concat([aad, Buffer.from(`|${kek.id}`)]));
    const body = seal(dataKey, Buffer.from(plaintext), aad);
    dataKey.fill(0);
    return [VERSION, kek.id, wrapped.toString('base64url'), body.toString('base64url')].join('.');
  }

  decrypt(ciphertext: string, context: string): Buffer {
    const envelope = parseEnvelope(ciphertext);
    const aad = Buffer.from(context, 'utf8');
    const dataKey = this.unwrap(envelope, aad);
    try {
      return open(dataKey, envelope.body, aad);
    } finally {
      dataKey.fill(0);
    }
  }

  /** The id of the key-encryption key that wrapped this value. */
  keyIdOf(ciphertext: string): string {
    return parseEnvelope(ciphertext).keyId;
  }

  needsRewrap(ciphertext: string): boolean {
    return this.keyIdOf(ciphertext) !== this.ring.active.id;
  }

  /** Re-wraps the data key under the active key-encryption key; the data itself is untouched. */
  rewrap(ciphertext: string, context: string): string {
    const envelope = parseEnvelope(ciphertext);
    const aad = Buffer.from(context, 'utf8');
    const dataKey = this.unwrap(envelope, aad);
    const kek = this.ring.active;
    const wrapped = seal(kek.key, dataKey, Buffer.concat([aad, Buffer.from(`|${kek.id}`)]));
    dataKey.fill(0);
    return [
      VERSION,
      kek.id,
      wrapped.toString('base64url'),
      envelope.body.toString('base64url'),
    ].join('.');
  }

  private unwrap(envelope: Envelope, aad: Buffer): Buffer {
    const kek = this.ring.get(envelope.keyId);
    return open(kek.key, envelope.wrappedKey, Buffer.concat([aad, Buffer.from(`|${kek.id}`)]));
  }
}
