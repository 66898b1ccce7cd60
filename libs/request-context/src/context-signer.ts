import type { KeyObject } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, jwtVerify, errors as joseErrors } from 'jose';
import { LRUCache } from 'lru-cache';
import { Actor, DomainError, ErrorCode } from '@lattice/contracts';
import {
  GATEWAY_IDENTITY,
  identityOfKid,
  parseContextPrivateKey,
  parseContextPublicKeys,
  type ContextSigningKey,
} from './context-keys';
import type { RequestContext } from './request-context';

const AUDIENCE = 'lattice-services';
const ALG = 'EdDSA';
const TYP = 'lattice-context+jwt';

/** Why a context was refused, in the error's details (`reason`), for logs and tests. */
export type ContextRejection =
  'missing' | 'malformed' | 'unknown-signer' | 'bad-signature' | 'expired' | 'claims-beyond-signer';

/** A request context refused: travels as `UNAUTHENTICATED` with `details.reason`. */
export class ContextRejectedError extends DomainError {
  constructor(
    readonly reason: ContextRejection,
    message: string,
  ) {
    super(ErrorCode.Unauthenticated, message, { reason });
    this.name = 'ContextRejectedError';
  }
}

/** A service asked to sign a context only the gateway may vouch for. */
export class ContextSigningRefused extends Error {
  override name = 'ContextSigningRefused';
}

export interface ContextSignerOptions {
  /** The service that signs: the gateway, or a service for its own service context only. */
  identity: string;
  /** Its private key; without one it can only pass on contexts it was given. */
  signingKey?: ContextSigningKey;
  /** The public keys it accepts contexts from, by key id (the signer's service name). */
  trusted: ReadonlyMap<string, KeyObject>;
  ttlSeconds?: number;
}

/**
 * Signs and verifies the request context that travels with a call (EdDSA, Ed25519 keys).
 * Only the gateway vouches for a tenant's caller: a context signed by any other service is
 * accepted only when it claims nothing but that service itself, at platform level, with no
 * roles. A context a service received is passed on as it was signed, never re-signed, so a
 * service that asks another on a caller's behalf needs no power to mint one.
 */
export class ContextSigner {
  readonly identity: string;
  private readonly signingKey?: ContextSigningKey;
  private readonly trusted: ReadonlyMap<string, KeyObject>;
  private readonly ttlSeconds: number;
  private readonly verified = new LRUCache<string, RequestContext>({ max: 10_000 });
  /** The token each verified context arrived with, to pass on unchanged. */
  private readonly received = new WeakMap<RequestContext, string>();

  constructor(options: ContextSignerOptions) {
    this.identity = options.identity;
    this.signingKey = options.signingKey;
    this.trusted = options.trusted;
    this.ttlSeconds = options.ttlSeconds ?? 60;
    if (this.signingKey && identityOfKid(this.signingKey.kid) !== this.identity) {
      throw new Error(`a key of ${this.signingKey.kid} cannot sign for ${this.identity}`);
    }
  }

  /** From a service's configuration: its private key (PEM or JWK) and the trusted JWKS. */
  static fromConfig(
    service: string,
    config: { LATTICE_CONTEXT_KEY?: string; LATTICE_CONTEXT_PUBLIC_KEYS: string },
  ): ContextSigner {
    const trusted = parseContextPublicKeys(config.LATTICE_CONTEXT_PUBLIC_KEYS);
    const signingKey = config.LATTICE_CONTEXT_KEY
      ? parseContextPrivateKey(config.LATTICE_CONTEXT_KEY, service)
      : undefined;
    if (signingKey) {
      const listed = trusted.get(signingKey.kid);
      const own = signingKey.key.export({ format: 'jwk' }).x;
      if (!listed || listed.export({ format: 'jwk' }).x !== own) {
        throw new Error(
          `LATTICE_CONTEXT_KEY: LATTICE_CONTEXT_PUBLIC_KEYS lists no matching public key under "${signingKey.kid}"`,
        );
      }
    }
    return new ContextSigner({ identity: service, signingKey, trusted });
  }

  /** Whether this signer may vouch for `ctx`: the gateway for any, a service for itself. */
  maySign(ctx: RequestContext): boolean {
    return this.identity === GATEWAY_IDENTITY || isOwnServiceContext(ctx, this.identity);
  }

  async sign(ctx: RequestContext): Promise<string> {
    const received = this.received.get(ctx);
    if (received) return received;
    if (!this.maySign(ctx)) {
      throw new ContextSigningRefused(
        `${this.identity} may sign only its own service context, not one of ${ctx.actor.type} ${ctx.actor.id}`,
      );
    }
    if (!this.signingKey) {
      throw new ContextSigningRefused(`${this.identity} has no context key (LATTICE_CONTEXT_KEY)`);
    }
    return new SignJWT({ tid: ctx.tenantId, act: ctx.actor, rid: ctx.requestId })
      .setProtectedHeader({ alg: ALG, typ: TYP, kid: this.signingKey.kid })
      .setIssuer(this.identity)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.signingKey.key);
  }

  /** The context a token vouches for; a `ContextRejectedError` when nothing trusted does. */
  async verify(token: string | undefined): Promise<RequestContext> {
    if (!token) throw new ContextRejectedError('missing', 'request context is missing');
    const cached = this.verified.get(token);
    if (cached) return cached;
    const { signer, key } = this.signerOf(token);
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: [ALG],
        issuer: signer,
        audience: AUDIENCE,
        typ: TYP,
        requiredClaims: ['exp', 'iat', 'rid'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) {
        throw new ContextRejectedError('expired', 'request context has expired');
      }
      if (error instanceof joseErrors.JOSEError) {
        const reason = error instanceof joseErrors.JWSSignatureVerificationFailed;
        throw new ContextRejectedError(
          reason ? 'bad-signature' : 'malformed',
          `request context rejected: ${error.code}`,
        );
      }
      throw error;
    }
    const actor = Actor.safeParse(payload.act);
    const tid = payload.tid;
    if (
      !actor.success ||
      !(tid === null || typeof tid === 'string') ||
      typeof payload.rid !== 'string'
    ) {
      throw new ContextRejectedError('malformed', 'request context is malformed');
    }
    const ctx: RequestContext = { tenantId: tid, actor: actor.data, requestId: payload.rid };
    if (signer !== GATEWAY_IDENTITY && !isOwnServiceContext(ctx, signer)) {
      throw new ContextRejectedError(
        'claims-beyond-signer',
        `request context signed by ${signer} may claim only ${signer} itself`,
      );
    }
    const ttl = Math.max(1, (payload.exp ?? 0) * 1000 - Date.now());
    this.verified.set(token, ctx, { ttl });
    this.received.set(ctx, token);
    return ctx;
  }

  private signerOf(token: string): { signer: string; key: KeyObject } {
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw new ContextRejectedError('malformed', 'request context is malformed');
    }
    const key = typeof kid === 'string' ? this.trusted.get(kid) : undefined;
    if (!key) {
      throw new ContextRejectedError(
        'unknown-signer',
        'request context is signed by no trusted key',
      );
    }
    return { signer: identityOfKid(kid as string), key };
  }
}

/** A platform-level context of the service itself, with no roles: all a service may sign. */
function isOwnServiceContext(ctx: RequestContext, service: string): boolean {
  return (
    ctx.tenantId === null &&
    ctx.actor.type === 'service' &&
    ctx.actor.id === service &&
    ctx.actor.roles.length === 0
  );
}
