import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { decodeProtectedHeader } from 'jose';
import { ExtractJwt, Strategy, type StrategyOptionsWithoutRequest } from 'passport-jwt';
import { z } from 'zod';
import { Uuid, text } from '@lattice/contracts';
import type { AccessClaims } from '@lattice/authz';
import { JwksCache } from './jwks.cache';

export const TOKEN_EXPECTATIONS = Symbol('TOKEN_EXPECTATIONS');
export interface TokenExpectations {
  issuer: string;
  audience: string;
}

/** The only algorithm access tokens are signed with; a token that says otherwise is refused. */
export const ACCESS_TOKEN_ALG = 'ES256';
const KID = /^[A-Za-z0-9_-]{1,64}$/;

/** Seconds since the epoch; a token without them never expires, and is not honoured (RFC 8725). */
const NumericDate = z.number().int().min(0);

const Claims = z.object({
  sub: Uuid,
  tid: Uuid,
  roles: z.array(text({ max: 100 })).max(50),
  perms: z.array(text({ max: 100 })).max(300),
  exp: NumericDate,
  iat: NumericDate,
});

/**
 * Access tokens, verified locally with passport-jwt against the auth service's JWKS:
 * algorithm pinned, `typ`, `iss`, `aud`, `exp` and `nbf` checked, `exp` and `iat` required,
 * `kid` treated as untrusted input (a lookup key, never a path or URL), and a `crit` header
 * refused: we understand no extension, and RFC 7515 says a token naming one we do not
 * understand is invalid (jsonwebtoken does not look at `crit` at all).
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(jwks: JwksCache, @Inject(TOKEN_EXPECTATIONS) expected: TokenExpectations) {
    const options: StrategyOptionsWithoutRequest = {
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      algorithms: [ACCESS_TOKEN_ALG],
      issuer: expected.issuer,
      audience: expected.audience,
      ignoreExpiration: false,
      jsonWebTokenOptions: { clockTolerance: 30 },
      // jsonwebtoken takes a KeyObject where the types say string or Buffer
      secretOrKeyProvider: (_request, rawJwt: string, done: (e: unknown, k?: never) => void) => {
        let header: ReturnType<typeof decodeProtectedHeader>;
        try {
          header = decodeProtectedHeader(rawJwt);
        } catch {
          return done(new Error('malformed token'));
        }
        if (header.alg !== ACCESS_TOKEN_ALG) return done(new Error('algorithm not accepted'));
        if (header.typ !== 'at+jwt') return done(new Error('not an access token'));
        if (header.crit !== undefined) return done(new Error('critical header not understood'));
        if (typeof header.kid !== 'string' || !KID.test(header.kid))
          return done(new Error('malformed key id'));
        jwks.keyFor(header.kid).then(
          (key) => (key ? done(null, key as never) : done(new Error('unknown signing key'))),
          (error: unknown) => done(error),
        );
      },
    };
    super(options);
  }

  validate(payload: unknown): AccessClaims {
    const claims = Claims.safeParse(payload);
    if (!claims.success) throw new Error('token claims are malformed');
    return claims.data;
  }
}
