import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { EnvelopeCipher } from '@lattice/secrets';

const SEALED = 'enc:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The crypto of crypto-shredding. Each data subject gets a random AES-256-GCM key of their
 * own; their personal fields are stored sealed under it, and the key itself is stored wrapped
 * by the platform's envelope encryption (LATTICE_KEK, key id in each wrapping, so the
 * key-encryption key rotates without a flag day). Forgetting the subject's key makes every
 * field sealed under it unreadable, while the ciphertext (and so the hash chain over it)
 * stays as it was.
 */
export class SubjectCipher {
  private readonly lookupKey: Buffer;

  constructor(
    private readonly envelope: EnvelopeCipher,
    lookupKey: Uint8Array,
  ) {
    if (lookupKey.length !== 32) throw new Error('the subject lookup key must be 32 bytes');
    this.lookupKey = Buffer.from(lookupKey);
  }

  /** Finds a subject's key row without storing who the subject is. */
  lookup(tenantId: string, subjectId: string): string {
    return createHmac('sha256', this.lookupKey)
      .update(`${tenantId}\u0000${subjectId}`)
      .digest('base64url');
  }

  newKey(): Buffer {
    return randomBytes(32);
  }

  wrap(key: Buffer, keyId: string): string {
    return this.envelope.encrypt(key, `audit.subject-key:${keyId}`);
  }

  unwrap(wrapped: string, keyId: string): Buffer {
    return this.envelope.decrypt(wrapped, `audit.subject-key:${keyId}`);
  }

  /** Seals a value under a subject's key, bound by `context` to where it is stored. */
  seal(key: Buffer, value: string, context: string): string {
    return seal(key, Buffer.from(value, 'utf8'), context);
  }

  open(key: Buffer, sealed: string, context: string): string {
    return open(key, sealed, context).toString('utf8');
  }
}

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(SEALED);
}

/**
 * Fresh IVs, cut from a block of random bytes drawn a few hundred at a time (one draw per IV
 * costs as much as the sealing itself); every IV is used once and never handed out again.
 */
const ivs = { block: Buffer.alloc(0), next: 0 };
function freshIv(): Buffer {
  if (ivs.next + IV_BYTES > ivs.block.length) {
    ivs.block = randomBytes(IV_BYTES * 341);
    ivs.next = 0;
  }
  const iv = ivs.block.subarray(ivs.next, ivs.next + IV_BYTES);
  ivs.next += IV_BYTES;
  return iv;
}

function seal(key: Buffer, plaintext: Buffer, context: string): string {
  const iv = freshIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return SEALED + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

function open(key: Buffer, sealed: string, context: string): Buffer {
  if (!isSealed(sealed)) throw new Error('not a sealed value');
  const raw = Buffer.from(sealed.slice(SEALED.length), 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('sealed value is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  return Buffer.concat([
    decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
    decipher.final(),
  ]);
}
