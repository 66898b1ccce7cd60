import { randomBytes } from 'node:crypto';

const FORMAT = /^lat_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `lat_<prefix>_<secret>`: the prefix finds the key, only a hash of the secret is kept. */
export interface ApiKeyParts {
  prefix: string;
  secret: string;
}

export function newApiKey(): ApiKeyParts & { key: string } {
  const bytes = randomBytes(12);
  const prefix = [...bytes].map((b) => PREFIX_ALPHABET[b % PREFIX_ALPHABET.length]).join('');
  const secret = randomBytes(32).toString('base64url');
  return { prefix, secret, key: `lat_${prefix}_${secret}` };
}

export function parseApiKey(key: string): ApiKeyParts | undefined {
  const match = FORMAT.exec(key);
  return match ? { prefix: match[1]!, secret: match[2]! } : undefined;
}

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith('lat_');
}
