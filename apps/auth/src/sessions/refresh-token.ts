import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const FORMAT = new RegExp(`^lrt\\.(${UUID})\\.(${UUID})\\.([A-Za-z0-9_-]{43})$`);

/**
 * An opaque refresh token, `lrt.<tenant>.<id>.<secret>`: the tenant and id find the row
 * within the right tenant's scope, and only a hash of the secret is stored.
 */
export interface RefreshToken {
  tenantId: string;
  id: string;
  secret: string;
}

export function newRefreshToken(tenantId: string): RefreshToken {
  return { tenantId, id: randomUUID(), secret: randomBytes(32).toString('base64url') };
}

export function formatRefreshToken(t: RefreshToken): string {
  return `lrt.${t.tenantId}.${t.id}.${t.secret}`;
}

export function parseRefreshToken(text: string): RefreshToken | undefined {
  const match = FORMAT.exec(text);
  return match ? { tenantId: match[1]!, id: match[2]!, secret: match[3]! } : undefined;
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

export function secretMatches(secret: string, stored: Buffer): boolean {
  const candidate = hashSecret(secret);
  return candidate.length === stored.length && timingSafeEqual(candidate, stored);
}
