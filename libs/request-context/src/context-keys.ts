import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';

/** The one identity whose signature vouches for a tenant's user, API key or anonymous caller. */
export const GATEWAY_IDENTITY = 'gateway';

/** A key that cannot be read, with the reason; the configuration names the variable. */
export class ContextKeyError extends Error {
  override name = 'ContextKeyError';
}

/** A service's own signing key and the identity (`kid`) its tokens carry. */
export interface ContextSigningKey {
  kid: string;
  key: KeyObject;
}

/** The identity a key id stands for: `scheduler` and `scheduler:2024-05` are both the scheduler. */
export function identityOfKid(kid: string): string {
  const colon = kid.indexOf(':');
  return colon === -1 ? kid : kid.slice(0, colon);
}

function ed25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ContextKeyError(`${what} must be an Ed25519 key, not ${key.asymmetricKeyType}`);
  }
  return key;
}

/**
 * A service's private key, as PKCS#8 PEM or as a JWK (`{"kty":"OKP","crv":"Ed25519","d":…}`).
 * Its key id is the JWK's `kid` where it has one, else the service's name.
 */
export function parseContextPrivateKey(
  text: string,
  service: string | undefined,
): ContextSigningKey {
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith('{')) {
      const jwk = JSON.parse(trimmed) as JsonWebKey & { kid?: string };
      const key = ed25519(createPrivateKey({ key: jwk, format: 'jwk' }), 'the context key');
      const kid = jwk.kid ?? service ?? '';
      if (service !== undefined && identityOfKid(kid) !== service) {
        throw new ContextKeyError(`the key's kid "${kid}" is not of the service ${service}`);
      }
      return { kid, key };
    }
    return { kid: service ?? '', key: ed25519(createPrivateKey(trimmed), 'the context key') };
  } catch (error) {
    if (error instanceof ContextKeyError) throw error;
    throw new ContextKeyError('not an Ed25519 private key in PKCS#8 PEM or JWK form');
  }
}

/**
 * The public keys that may vouch for request context, as a JWKS (`{"keys":[…]}`) whose every
 * key's `kid` names the service it belongs to (`gateway`, `scheduler`, `scheduler:2`).
 * Imported once, here: verifying a context never parses a key again.
 */
export function parseContextPublicKeys(text: string): ReadonlyMap<string, KeyObject> {
  let jwks: { keys?: unknown };
  try {
    jwks = JSON.parse(text) as { keys?: unknown };
  } catch {
    throw new ContextKeyError('not JSON: a JWKS ({"keys":[…]}) is expected');
  }
  if (!Array.isArray(jwks?.keys) || jwks.keys.length === 0) {
    throw new ContextKeyError('a JWKS with at least one key ({"keys":[…]}) is expected');
  }
  const keys = new Map<string, KeyObject>();
  for (const jwk of jwks.keys as (JsonWebKey & { kid?: unknown })[]) {
    if (typeof jwk.kid !== 'string' || jwk.kid === '') {
      throw new ContextKeyError('every key needs a kid naming its service');
    }
    if (keys.has(jwk.kid)) throw new ContextKeyError(`the kid "${jwk.kid}" appears twice`);
    if ('d' in jwk)
      throw new ContextKeyError(`the key "${jwk.kid}" is private; give its public half`);
    try {
      keys.set(jwk.kid, ed25519(createPublicKey({ key: jwk, format: 'jwk' }), jwk.kid));
    } catch (error) {
      if (error instanceof ContextKeyError) throw error;
      throw new ContextKeyError(`the key "${jwk.kid}" is not an Ed25519 public key`);
    }
  }
  return keys;
}

/** The public half of a key pair, as the JWK a JWKS of trusted keys lists under `kid`. */
export function publicJwk(key: KeyObject, kid: string): JsonWebKey & { kid: string } {
  const { kty, crv, x } = createPublicKey(key).export({ format: 'jwk' });
  return { kty, crv, x, kid };
}

/** A key pair for each service, as an installation is given them (PEM private keys, one JWKS). */
export interface ContextKeySet {
  privateKeys: Record<string, string>;
  publicKeys: string;
}

export function newContextPrivateKey(): string {
  return generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

/** The JWKS that trusts each of these services' private keys (PEM), under the service's name. */
export function contextPublicKeys(privateKeys: Record<string, string>): string {
  const keys = Object.entries(privateKeys).map(([service, pem]) =>
    publicJwk(parseContextPrivateKey(pem, service).key, service),
  );
  return JSON.stringify({ keys });
}

/** Fresh keys for every service named (the launcher's first start, a test's own platform). */
export function newContextKeySet(services: readonly string[]): ContextKeySet {
  const privateKeys = Object.fromEntries(services.map((s) => [s, newContextPrivateKey()]));
  return { privateKeys, publicKeys: contextPublicKeys(privateKeys) };
}

/** Key of a service's private key in the Secret an installation's chart reads. */
export const contextKeySecretKey = (service: string): string => `context-key-${service}`;
/** Key of the shared JWKS in that Secret. */
export const CONTEXT_PUBLIC_KEYS_SECRET_KEY = 'context-public-keys';

/**
 * The keys as the data of the Kubernetes Secret the Helm chart's
 * `secrets.contextKeys.existingSecret` names: each service's private key under
 * `context-key-<service>`, the JWKS under `context-public-keys`.
 */
export function contextKeySecretData(set: ContextKeySet): Record<string, string> {
  return {
    ...Object.fromEntries(
      Object.entries(set.privateKeys).map(([service, pem]) => [contextKeySecretKey(service), pem]),
    ),
    [CONTEXT_PUBLIC_KEYS_SECRET_KEY]: set.publicKeys,
  };
}
