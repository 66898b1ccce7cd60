import { hkdfSync } from 'node:crypto';

/**
 * One key per purpose (request-context signing, cursors, lookup hashes), derived from the
 * installation's shared internal secret, so that no two uses ever share a key.
 */
export function deriveKey(secret: string, purpose: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, 'lattice', purpose, 32));
}
