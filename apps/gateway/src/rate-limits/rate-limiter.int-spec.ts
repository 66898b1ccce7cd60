import { randomUUID } from 'node:crypto';
import { testNamespace, testRedisUrl } from '@lattice/testing';
import { TenantRateLimiter, rateLimitRedis } from './rate-limiter';

const REDIS_URL = testRedisUrl();
/** Where the harness could find or start no Redis (it said why), the shared test is skipped. */
const withRedis = REDIS_URL ? it : it.skip;

/** Two gateway replicas, each with its own Redis connection, counting one tenant's requests. */
describe(TenantRateLimiter.name, () => {
  const replicas: TenantRateLimiter[] = [];

  beforeAll(async () => {
    if (!REDIS_URL) return;
    const keyPrefix = `${testNamespace()}:rate`;
    for (let i = 0; i < 2; i++) {
      const redis = rateLimitRedis(REDIS_URL);
      // until it is connected a replica counts in memory (commands are not queued): a gateway
      // takes its first requests that way too, for the moment the connection takes
      await new Promise((ready) => redis.once('ready', ready));
      replicas.push(new TenantRateLimiter({ redis, keyPrefix }));
    }
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.onModuleDestroy();
  });

  withRedis('holds the limit across replicas sharing Redis', async () => {
    const tenant = randomUUID();
    const [a, b] = replicas as [TenantRateLimiter, TenantRateLimiter];
    const decisions = [];
    for (let i = 0; i < 6; i++) decisions.push(await (i % 2 ? b : a).consume(tenant, 5));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, false]);
    expect(decisions[4]!.remaining).toBe(0);
    expect(decisions[5]!.resetSeconds).toBeGreaterThan(0);
    // and each tenant has its own budget
    expect((await b.consume(randomUUID(), 5)).allowed).toBe(true);
  });

  withRedis('counts requests that arrive at once exactly, across replicas', async () => {
    const tenant = randomUUID();
    const [a, b] = replicas as [TenantRateLimiter, TenantRateLimiter];
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? b : a).consume(tenant, 12)),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(12);
    expect(decisions.map((d) => d.remaining).sort((x, y) => x - y)).toEqual([
      ...Array(9).fill(0),
      ...Array.from({ length: 11 }, (_, i) => i + 1),
    ]);
  });

  it('counts in memory while Redis cannot be reached, instead of failing the request', async () => {
    // nothing listens on the port: every command fails at once
    const redis = rateLimitRedis('redis://127.0.0.1:1');
    redis.on('error', () => undefined);
    const cut = new TenantRateLimiter({ redis, keyPrefix: 'unreachable' });
    const tenant = randomUUID();
    const allowed = [];
    for (let i = 0; i < 3; i++) allowed.push((await cut.consume(tenant, 2)).allowed);
    expect(allowed).toEqual([true, true, false]);
    await cut.onModuleDestroy();
  });

  it('counts in memory when there is no Redis, one replica at a time', async () => {
    const alone = new TenantRateLimiter({ keyPrefix: 'memory' });
    const tenant = randomUUID();
    const allowed = [];
    for (let i = 0; i < 3; i++) allowed.push((await alone.consume(tenant, 2)).allowed);
    expect(allowed).toEqual([true, true, false]);
  });
});
