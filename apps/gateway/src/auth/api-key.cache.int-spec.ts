import { randomUUID } from 'node:crypto';
import { JSONCodec, type NatsConnection, type Subscription } from 'nats';
import pino from 'pino';
import {
  AuthApiKeyRevoked,
  AuthApiKeysVerify,
  ErrorCode,
  type ApiKeyPrincipal,
} from '@lattice/contracts';
import { EventBus, RpcClient, SubjectNamespace, connectNats } from '@lattice/messaging';
import {
  eventually,
  failure,
  testNamespace,
  testNatsUrl,
  testGatewaySigner,
} from '@lattice/testing';
import { ApiKeyCache } from './api-key.cache';

/**
 * The gateway's API-key cache over the real NATS server: a responder stands in for the auth
 * service's verify subject, and revocations arrive as the auth service publishes them.
 */
describe(ApiKeyCache.name, () => {
  const ns = new SubjectNamespace(testNamespace());
  const json = JSONCodec();
  const silent = pino({ level: 'silent' });
  /** What the auth service would answer for each key; a key not here is refused. */
  const valid = new Map<string, ApiKeyPrincipal>();
  let gatewayNc: NatsConnection;
  let authNc: NatsConnection;
  let responder: Subscription;
  let auth: EventBus;
  let cache: ApiKeyCache;
  let asked = 0;

  const newKey = () => {
    const key = `lat_${randomUUID().slice(0, 8)}_${randomUUID()}`;
    const principal: ApiKeyPrincipal = {
      keyId: randomUUID(),
      tenantId: randomUUID(),
      ownerType: 'user',
      ownerId: randomUUID(),
      roles: [],
      permissions: ['read:Job:own'],
      expiresAt: null,
    };
    valid.set(key, principal);
    return { key, principal };
  };
  /** As the auth service does: the key stops verifying, then every gateway hears of it. */
  const revoke = (key: string) => {
    const { keyId } = valid.get(key)!;
    valid.delete(key);
    auth.publish(AuthApiKeyRevoked, { keyId, prefix: key.split('_')[1]! });
  };

  beforeAll(async () => {
    gatewayNc = await connectNats(testNatsUrl(), 'api-key-cache-gateway');
    authNc = await connectNats(testNatsUrl(), 'api-key-cache-auth');
    auth = new EventBus(authNc, ns, silent);
    responder = authNc.subscribe(ns.subject(AuthApiKeysVerify.subject), {
      callback: (_error, msg) => {
        asked++;
        const { data } = json.decode(msg.data) as { data: { key: string } };
        const principal = valid.get(data.key);
        msg.respond(
          json.encode(
            principal
              ? { response: principal, isDisposed: true }
              : { err: { code: ErrorCode.Unauthenticated, message: 'revoked' }, isDisposed: true },
          ),
        );
      },
    });
    await authNc.flush();
    const rpc = new RpcClient(gatewayNc, testGatewaySigner(), ns, 2_000);
    // entries outlive the test: only a revocation can make the cache ask again
    cache = new ApiKeyCache(rpc, new EventBus(gatewayNc, ns, silent), 10 * 60_000);
    cache.onModuleInit();
    await gatewayNc.flush();
  });
  afterAll(async () => {
    cache?.onModuleDestroy();
    responder?.unsubscribe();
    await gatewayNc?.close();
    await authNc?.close();
  });

  it('serves a key from the cache until it is revoked, then refuses it at once', async () => {
    const { key, principal } = newKey();
    expect(await cache.principal(key)).toEqual(principal);
    const before = asked;
    expect(await cache.principal(key)).toEqual(principal);
    expect(asked).toBe(before);

    revoke(key);
    await eventually(async () =>
      expect((await failure(cache.principal(key))).code).toBe(ErrorCode.Unauthenticated),
    );
  });

  it('acts on no revocation outside the contract, and on none of another key', async () => {
    const kept = newKey();
    const revoked = newKey();
    await cache.principal(kept.key);
    await cache.principal(revoked.key);
    const before = asked;

    // a malformed revocation, which must neither crash the cache nor empty it
    authNc.publish(
      ns.subject(AuthApiKeyRevoked.subject),
      json.encode({ keyId: kept.principal.keyId }),
    );
    authNc.publish(ns.subject(AuthApiKeyRevoked.subject), new TextEncoder().encode('{'));
    revoke(revoked.key);
    await eventually(async () =>
      expect((await failure(cache.principal(revoked.key))).code).toBe(ErrorCode.Unauthenticated),
    );

    // the events before the revocation were heard first, and changed nothing
    expect(await cache.principal(kept.key)).toEqual(kept.principal);
    expect(asked).toBe(before + 1);
  });
});
