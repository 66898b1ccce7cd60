import { generateKeyPairSync } from 'node:crypto';
import { JSONCodec, type NatsConnection, type Subscription } from 'nats';
import pino from 'pino';
import { AuthJwks, AuthSigningKeyRotated, ErrorCode } from '@lattice/contracts';
import { EventBus, RpcClient, SubjectNamespace, connectNats } from '@lattice/messaging';
import {
  eventually,
  failure,
  testNamespace,
  testNatsUrl,
  testGatewaySigner,
} from '@lattice/testing';
import { JWKS_MAX_AGE_MS, JwksCache } from './jwks.cache';

jest.setTimeout(30_000);

const publicJwk = (kid: string) => ({
  ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }),
  kid,
  alg: 'ES256',
  use: 'sig',
});

/** The gateway's JWKS cache against a responder on the auth service's JWKS subject. */
describe(JwksCache.name, () => {
  const ns = new SubjectNamespace(testNamespace());
  const json = JSONCodec();
  const silent = pino({ level: 'silent' });
  let nats: NatsConnection;
  let rpc: RpcClient;
  /** The gateway's bus, and the auth service's, on which rotations are announced. */
  let events: EventBus;
  let auth: EventBus;
  let responder: Subscription | undefined;
  let asked = 0;

  const serveJwks = (keys: object[]) => {
    responder?.unsubscribe();
    responder = nats.subscribe(ns.subject(AuthJwks.subject), {
      callback: (_error, msg) => {
        asked++;
        msg.respond(json.encode({ response: { keys }, isDisposed: true }));
      },
    });
  };
  const stopServing = () => {
    responder?.unsubscribe();
    responder = undefined;
  };

  beforeAll(async () => {
    nats = await connectNats(testNatsUrl(), 'jwks-cache-test');
    rpc = new RpcClient(nats, testGatewaySigner(), ns, 1_000);
    events = new EventBus(nats, ns, silent);
    auth = new EventBus(nats, ns, silent);
  });
  afterEach(() => {
    stopServing();
    jest.restoreAllMocks();
    asked = 0;
  });
  afterAll(() => nats?.close());

  it('fetches again for an unknown kid, but no more often than the bound', async () => {
    serveJwks([publicJwk('one')]);
    await nats.flush();
    const cache = new JwksCache(rpc, events, 60_000, silent);
    expect(await cache.keyFor('one')).toBeDefined();
    expect(asked).toBe(1);
    for (const kid of ['forged-1', 'forged-2', 'forged-3'])
      expect(await cache.keyFor(kid)).toBeUndefined();
    // the first fetch was just now: forged kids do not reach the auth service
    expect(asked).toBe(1);
  });

  it('learns a new key at once when the bound allows it', async () => {
    serveJwks([publicJwk('one')]);
    await nats.flush();
    const cache = new JwksCache(rpc, events, 0, silent);
    await cache.keyFor('one');
    serveJwks([publicJwk('two'), publicJwk('one')]);
    await nats.flush();
    expect(await cache.keyFor('two')).toBeDefined();
    expect(await cache.keyFor('one')).toBeDefined();
  });

  it('fetches a key the auth service announces at once, whatever the bound', async () => {
    serveJwks([publicJwk('one')]);
    await nats.flush();
    const cache = new JwksCache(rpc, events, 60_000, silent);
    cache.onModuleInit();
    try {
      expect(await cache.keyFor('one')).toBeDefined();
      // the bound was spent just now: unannounced, 'two' would stay unknown for a minute
      serveJwks([publicJwk('two'), publicJwk('one')]);
      await nats.flush();
      auth.publish(AuthSigningKeyRotated, { kid: 'two' });
      await eventually(() => expect(asked).toBe(2));
      expect(await cache.keyFor('two')).toBeDefined();
      expect(await cache.keyFor('one')).toBeDefined();
    } finally {
      cache.onModuleDestroy();
    }
  });

  it('goes on verifying with the keys in hand while the auth service is unreachable', async () => {
    serveJwks([publicJwk('one')]);
    await nats.flush();
    const failures: string[] = [];
    const watched = pino({ level: 'warn' }, { write: (line: string) => failures.push(line) });
    const cache = new JwksCache(rpc, events, 1_000, watched);
    const key = await cache.keyFor('one');
    stopServing();
    await nats.flush();

    // the set is past its age: it is refreshed in the background, which fails
    const later = Date.now() + JWKS_MAX_AGE_MS + 1_000;
    jest.spyOn(Date, 'now').mockReturnValue(later);
    expect(await cache.keyFor('one')).toBe(key);
    // waiting takes the real clock; the set stays past its age when it is put back
    jest.restoreAllMocks();
    await eventually(() => expect(failures.join('')).toContain('fetching the JWKS'));
    jest.spyOn(Date, 'now').mockReturnValue(later);
    // the refresh has failed by now, and the key in hand still verifies
    expect(await cache.keyFor('one')).toBe(key);
    // an unknown kid is unknown, not an outage, while keys from an earlier fetch exist
    jest.spyOn(Date, 'now').mockReturnValue(later + 2_000);
    expect(await cache.keyFor('other')).toBeUndefined();
  });

  it('reports the auth service unavailable when it has never had keys', async () => {
    const cache = new JwksCache(rpc, events, 1_000, silent);
    const error = await failure(cache.keyFor('one'));
    expect(error.code).toBe(ErrorCode.Unavailable);
  });
});
