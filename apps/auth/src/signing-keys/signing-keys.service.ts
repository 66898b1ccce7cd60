import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { AuthSigningKeyRotated, type Jwks } from '@lattice/contracts';
import { EventBus } from '@lattice/messaging';
import { EnvelopeCipher } from '@lattice/secrets';
import { Clock } from '@lattice/service-runtime';
import { AUTH_SETTINGS, type AuthSettings } from '../auth.settings';
import { SigningKeyRepository } from './signing-key.repository';

/** ES256: asymmetric, and verified by the gateway's passport-jwt. */
export const SIGNING_ALG = 'ES256';
/** How far apart clocks may be; a retired key verifies this much longer than its last token. */
const CLOCK_SKEW_SECONDS = 60;
/** How long a replica trusts its copy of the active key before looking again. */
const ACTIVE_KEY_CACHE_MS = 30_000;

interface ActiveKey {
  kid: string;
  key: Awaited<ReturnType<typeof importJWK>>;
  createdAt: Date;
  loadedAt: number;
}

const context = (kid: string) => `auth.signing-key:${kid}`;

/**
 * The token signing keys: one active key signs; retired keys stay in the JWKS until every
 * token they signed has expired. Private halves are stored envelope-encrypted.
 */
@Injectable()
export class SigningKeys {
  private active?: ActiveKey;

  constructor(
    private readonly keys: SigningKeyRepository,
    private readonly cipher: EnvelopeCipher,
    private readonly clock: Clock,
    private readonly events: EventBus,
    @Inject(AUTH_SETTINGS) private readonly settings: AuthSettings,
  ) {}

  async sign(claims: JWTPayload, subject: string, ttlSeconds: number): Promise<string> {
    const active = await this.activeKey();
    const now = Math.floor(this.clock.now().getTime() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: SIGNING_ALG, kid: active.kid, typ: 'at+jwt' })
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setSubject(subject)
      .setJti(randomBytes(12).toString('base64url'))
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(active.key);
  }

  async jwks(): Promise<Jwks> {
    const published = await this.keys.published(this.clock.now());
    return { keys: published.map((jwk) => jwk as Record<string, unknown>) };
  }

  /** Makes sure a key exists, and replaces it when it is older than the rotation period. */
  async ensureFresh(): Promise<void> {
    const row = await this.keys.active();
    const maxAgeMs = this.settings.keyRotationDays * 86_400_000;
    if (!row || this.clock.now().getTime() - new Date(row.created_at).getTime() >= maxAgeMs) {
      await this.rotate();
    }
  }

  /**
   * A new key signs from now on; the one it replaces verifies until its tokens expire. Gateways
   * are told before this replica signs with it, so they fetch it at once instead of refusing
   * its first tokens until their bound on JWKS refetches lets them look.
   */
  async rotate(): Promise<{ kid: string; retired: string[] }> {
    const kid = randomBytes(12).toString('base64url');
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' };
    const sealed = this.cipher.encrypt(JSON.stringify(await exportJWK(privateKey)), context(kid));
    const now = this.clock.now();
    const verifyUntil = new Date(
      now.getTime() + (this.settings.accessTokenTtlSeconds + CLOCK_SKEW_SECONDS) * 1000,
    );
    const retired = await this.keys.replaceActive(
      { kid, alg: SIGNING_ALG, publicJwk, privateJwkSealed: sealed },
      now,
      verifyUntil,
    );
    this.events.publish(AuthSigningKeyRotated, { kid });
    this.active = undefined;
    return { kid, retired };
  }

  private async activeKey(): Promise<ActiveKey> {
    if (this.active && Date.now() - this.active.loadedAt < ACTIVE_KEY_CACHE_MS) return this.active;
    const row = await this.keys.active();
    if (!row) {
      await this.rotate();
      return this.activeKey();
    }
    const jwk = JSON.parse(
      this.cipher.decrypt(row.private_jwk_sealed, context(row.kid)).toString('utf8'),
    ) as JWK;
    this.active = {
      kid: row.kid,
      key: await importJWK(jwk, SIGNING_ALG),
      createdAt: row.created_at,
      loadedAt: Date.now(),
    };
    return this.active;
  }
}
