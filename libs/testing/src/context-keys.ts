import { createHash, createPrivateKey } from 'node:crypto';
import { SERVICE_NAMES } from '@lattice/contracts';
import { ContextSigner, contextPublicKeys, type ContextKeySet } from '@lattice/request-context';

/** PKCS#8 DER of an Ed25519 private key, before its 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * A service's context key in tests: the same in every process of a run (a service started
 * from the build, the test that calls it), since it comes from the service's name. For tests
 * only: anyone can compute it.
 */
export function testContextKey(service: string): string {
  const seed = createHash('sha256').update(`lattice-test-context-key/${service}`).digest();
  return createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

let publicKeys: string | undefined;

/** The JWKS that trusts every declared service's test key (the gateway's among them). */
export function testContextPublicKeys(): string {
  publicKeys ??= contextPublicKeys(
    Object.fromEntries(SERVICE_NAMES.map((service) => [service, testContextKey(service)])),
  );
  return publicKeys;
}

/** Every declared service's test key, as a platform started in a test is given them. */
export function testContextKeySet(): ContextKeySet {
  return {
    privateKeys: Object.fromEntries(SERVICE_NAMES.map((s) => [s, testContextKey(s)])),
    publicKeys: testContextPublicKeys(),
  };
}

/** The context variables of `service` in tests: its own key, and every service's public one. */
export function testContextEnv(service: string): {
  LATTICE_CONTEXT_KEY: string;
  LATTICE_CONTEXT_PUBLIC_KEYS: string;
} {
  return {
    LATTICE_CONTEXT_KEY: testContextKey(service),
    LATTICE_CONTEXT_PUBLIC_KEYS: testContextPublicKeys(),
  };
}

/**
 * A signer for a test that calls services as the gateway would: it vouches for any caller
 * (a tenant's user, a platform admin, a worker's service context).
 */
export function testGatewaySigner(): ContextSigner {
  return ContextSigner.fromConfig('gateway', testContextEnv('gateway'));
}
