import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { LRUCache } from 'lru-cache';
import { Actor, DomainError, ErrorCode } from '@lattice/contracts';
import { deriveKey } from '@lattice/secrets';
import type { RequestContext } from './request-context';

const ISSUER = 'lattice-gateway';
const AUDIENCE = 'lattice-services';
const ALG = 'HS256';

/**
 * Signs and verifies the request context that travels with a call. A service acts on a context
 * only when its signature verifies, so nothing on the bus can claim to be another tenant.
 */
export class ContextSigner {
  private readonly key: Uint8Array;
  private readonly verified = new LRUCache<string, RequestContext>({ max: 10_000 });

  constructor(
    secret: string,
    private readonly ttlSeconds = 60,
  ) {
    this.key = deriveKey(secret, 'request-context');
  }
  async sign(ctx: RequestContext): Promise<string> {
    return new SignJWT({ tid: ctx.tenantId, act: ctx.actor, rid: ctx.requestId })
      .setProtectedHeader({ alg: ALG, typ: 'lattice-context+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }

  async verify(token: string | undefined): Promise<RequestContext> {
    if (!token) throw new DomainError(ErrorCode.Unauthenticated, 'request context is missing');
    const cached = this.verified.get(token);
    if (cached) return cached;
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: [ALG],
        issuer: ISSUER,
        audience: AUDIENCE,
        typ: 'lattice-context+jwt',
        requiredClaims: ['exp', 'iat', 'rid'],
      });
      const actor = Actor.safeParse(payload.act);
      const tid = payload.tid;
      if (
        !actor.success ||
        !(tid === null || typeof tid === 'string') ||
        typeof payload.rid !== 'string'
      ) {
        throw new DomainError(ErrorCode.Unauthenticated, 'request context is malformed');
      }
      const ctx: RequestContext = { tenantId: tid, actor: actor.data, requestId: payload.rid };
      const ttl = Math.max(1, (payload.exp ?? 0) * 1000 - Date.now());
      this.verified.set(token, ctx, { ttl });
      return ctx;
    } catch (error) {
      if (error instanceof DomainError) throw error;
      if (error instanceof joseErrors.JOSEError) {
        throw new DomainError(ErrorCode.Unauthenticated, `request context rejected: ${error.code}`);
      }
      throw error;
    }
  }
}
