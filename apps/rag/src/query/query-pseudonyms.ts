import { createHmac } from 'node:crypto';

/**
 * Keyed hashes that let the service count and erase what a person asked without keeping who
 * they are or what they asked in clear: an actor becomes an HMAC of the tenant and its id; a
 * question an HMAC of the tenant and its text. The key is the service's own (derived from the
 * internal secret), so a hash cannot be reversed by guessing ids or questions without it.
 */
export class QueryPseudonyms {
  constructor(private readonly key: Uint8Array) {}

  actor(tenantId: string, actorId: string): string {
    return this.hmac(`actor\u0000${tenantId}\u0000${actorId}`);
  }

  question(tenantId: string, question: string): string {
    return this.hmac(`question\u0000${tenantId}\u0000${question}`);
  }

  private hmac(value: string): string {
    return createHmac('sha256', this.key).update(value, 'utf8').digest('hex');
  }
}
