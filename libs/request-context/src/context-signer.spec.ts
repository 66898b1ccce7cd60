import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { ErrorCode, PLATFORM_ADMIN_ROLE } from '@lattice/contracts';
import {
  ContextKeyError,
  contextKeySecretData,
  newContextKeySet,
  parseContextPrivateKey,
  parseContextPublicKeys,
  publicJwk,
} from './context-keys';
import { ContextRejectedError, ContextSigner, ContextSigningRefused } from './context-signer';
import { isPlatformAdmin, serviceContext, type RequestContext } from './request-context';

const keys = newContextKeySet(['gateway', 'scheduler', 'tenants']);
const signerOf = (service: string) =>
  ContextSigner.fromConfig(service, {
    LATTICE_CONTEXT_KEY: keys.privateKeys[service],
    LATTICE_CONTEXT_PUBLIC_KEYS: keys.publicKeys,
  });
const gateway = signerOf('gateway');
const scheduler = signerOf('scheduler');
const tenants = signerOf('tenants');

const member: RequestContext = {
  tenantId: '7d1e1c1a-9a57-4cd1-8f0e-6b0b0b0b0b0b',
  actor: { type: 'user', id: 'u1', roles: ['developer'] },
  requestId: 'r1',
};

/** A token as a service with its own key could make it, whatever it claims. */
async function mintAs(service: string, ctx: RequestContext, kid = service): Promise<string> {
  return new SignJWT({ tid: ctx.tenantId, act: ctx.actor, rid: ctx.requestId })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'lattice-context+jwt', kid })
    .setIssuer(service)
    .setAudience('lattice-services')
    .setIssuedAt()
    .setExpirationTime('60s')
    .sign(parseContextPrivateKey(keys.privateKeys[service]!, service).key);
}

async function refusal(promise: Promise<unknown>): Promise<ContextRejectedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ContextRejectedError);
  expect((error as ContextRejectedError).code).toBe(ErrorCode.Unauthenticated);
  return error as ContextRejectedError;
}

describe(ContextSigner.name, () => {
  it("gives back a tenant member's context the gateway signed", async () => {
    expect(await tenants.verify(await gateway.sign(member))).toEqual(member);
  });

  it('works from the Secret the chart reads: each service its own key, the shared JWKS', async () => {
    const data = contextKeySecretData(keys);
    expect(Object.keys(data).sort()).toEqual([
      'context-key-gateway',
      'context-key-scheduler',
      'context-key-tenants',
      'context-public-keys',
    ]);
    const fromSecret = (service: string) =>
      ContextSigner.fromConfig(service, {
        LATTICE_CONTEXT_KEY: data[`context-key-${service}`],
        LATTICE_CONTEXT_PUBLIC_KEYS: data['context-public-keys'],
      });
    const own = serviceContext('scheduler');
    expect(await fromSecret('tenants').verify(await fromSecret('scheduler').sign(own))).toEqual(
      own,
    );
  });

  it("accepts a service's own platform-level context, signed with its own key", async () => {
    const own = serviceContext('scheduler');
    expect(await tenants.verify(await scheduler.sign(own))).toEqual(own);
  });

  it('will not sign, as a service, a context that is not its own service context', async () => {
    await expect(scheduler.sign(member)).rejects.toBeInstanceOf(ContextSigningRefused);
    await expect(scheduler.sign(serviceContext('tenants'))).rejects.toBeInstanceOf(
      ContextSigningRefused,
    );
    await expect(
      scheduler.sign({ ...serviceContext('scheduler'), tenantId: member.tenantId }),
    ).rejects.toBeInstanceOf(ContextSigningRefused);
  });

  it('refuses a tenant context signed with a service key, as a service could mint it', async () => {
    const error = await refusal(tenants.verify(await mintAs('scheduler', member)));
    expect(error.reason).toBe('claims-beyond-signer');
  });

  it("refuses a service's key claiming another service, a tenant, or roles", async () => {
    for (const claim of [
      serviceContext('tenants'),
      { ...serviceContext('scheduler'), tenantId: member.tenantId },
      {
        ...serviceContext('scheduler'),
        actor: { type: 'service' as const, id: 'scheduler', roles: [PLATFORM_ADMIN_ROLE] },
      },
    ]) {
      const error = await refusal(tenants.verify(await mintAs('scheduler', claim)));
      expect(error.reason).toBe('claims-beyond-signer');
    }
  });

  it("refuses a service's token that names the gateway's key", async () => {
    const error = await refusal(tenants.verify(await mintAs('scheduler', member, 'gateway')));
    expect(error.reason).toBe('bad-signature');
  });

  it('refuses a context signed by a key it does not trust', async () => {
    const stranger = newContextKeySet(['gateway']);
    const forger = ContextSigner.fromConfig('gateway', {
      LATTICE_CONTEXT_KEY: stranger.privateKeys.gateway,
      LATTICE_CONTEXT_PUBLIC_KEYS: stranger.publicKeys,
    });
    expect((await refusal(tenants.verify(await forger.sign(member)))).reason).toBe('bad-signature');
    const unknown = newContextKeySet(['rogue']);
    const rogue = ContextSigner.fromConfig('rogue', {
      LATTICE_CONTEXT_KEY: unknown.privateKeys.rogue,
      LATTICE_CONTEXT_PUBLIC_KEYS: unknown.publicKeys,
    });
    expect((await refusal(tenants.verify(await rogue.sign(serviceContext('rogue'))))).reason).toBe(
      'unknown-signer',
    );
  });

  it('refuses a missing or unreadable context', async () => {
    expect((await refusal(tenants.verify(undefined))).reason).toBe('missing');
    expect((await refusal(tenants.verify('not.a.token'))).reason).toBe('malformed');
  });

  it('passes on the token a context arrived with, rather than signing it anew', async () => {
    const token = await gateway.sign(member);
    const received = await scheduler.verify(token);
    expect(await scheduler.sign(received)).toBe(token);
    // a copy is a context of the service's own making, which it may not sign
    await expect(scheduler.sign({ ...received })).rejects.toBeInstanceOf(ContextSigningRefused);
  });

  it('refuses a context key that the trusted keys do not list for the service', () => {
    expect(() =>
      ContextSigner.fromConfig('scheduler', {
        LATTICE_CONTEXT_KEY: keys.privateKeys.tenants,
        LATTICE_CONTEXT_PUBLIC_KEYS: keys.publicKeys,
      }),
    ).toThrow(/LATTICE_CONTEXT_PUBLIC_KEYS lists no matching public key under "scheduler"/);
  });
});

describe(parseContextPrivateKey.name, () => {
  it('reads a JWK as well as PEM, its kid naming the service', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'scheduler:2' };
    expect(parseContextPrivateKey(JSON.stringify(jwk), 'scheduler').kid).toBe('scheduler:2');
    expect(() => parseContextPrivateKey(JSON.stringify(jwk), 'tenants')).toThrow(ContextKeyError);
  });

  it('refuses a key that is not Ed25519', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(() => parseContextPrivateKey(rsa, 'gateway')).toThrow(/Ed25519/);
    expect(() => parseContextPrivateKey('hello', 'gateway')).toThrow(ContextKeyError);
  });
});

describe(parseContextPublicKeys.name, () => {
  it('takes each key under its kid', () => {
    expect([...parseContextPublicKeys(keys.publicKeys).keys()]).toEqual([
      'gateway',
      'scheduler',
      'tenants',
    ]);
  });

  it('refuses a private key, a key without kid, a repeated kid, or no keys', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const jwk = publicJwk(privateKey, 'gateway');
    const bad = [
      { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'gateway' }] },
      { keys: [{ ...jwk, kid: undefined }] },
      { keys: [jwk, jwk] },
      { keys: [] },
    ];
    for (const jwks of bad) {
      expect(() => parseContextPublicKeys(JSON.stringify(jwks))).toThrow(ContextKeyError);
    }
    expect(() => parseContextPublicKeys('{')).toThrow(ContextKeyError);
  });
});

describe(isPlatformAdmin.name, () => {
  const admin = { ...member.actor, roles: [PLATFORM_ADMIN_ROLE] };

  it('holds for a platform-level caller with the platform admin role', () => {
    expect(isPlatformAdmin({ ...member, tenantId: null, actor: admin })).toBe(true);
  });

  it('holds neither within a tenant nor without the role', () => {
    expect(isPlatformAdmin({ ...member, actor: admin })).toBe(false);
    expect(isPlatformAdmin(serviceContext('gateway'))).toBe(false);
  });
});
