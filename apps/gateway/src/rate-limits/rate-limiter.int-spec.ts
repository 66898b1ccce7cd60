import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { testNamespace, testRedisUrl } from '@lattice/testing';
import { TenantRateLimiter } from './rate-limiter';

const REDIS_URL = testRedisUrl();
/** Where the harness could find or start no Redis (it said why), the shared test is skipped. */
const withRedis = REDIS_URL ? it : it.skip;

/** Two gateway replicas, each with its own Redis connection, counting one tenant's requests. */
describe(TenantRateLimiter.name, () => {
  const replicas: TenantRateLimiter[] = [];

  beforeAll(() => {
    if (!REDIS_URL) return;
    const keyPrefix = `${testNamespace()}:rate`;
    for (let i = 0; i < 2; i++)
      replicas.push(new TenantRateLimiter({ redis: new Redis(REDIS_URL), keyPrefix }));
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

  it('counts in memory when there is no Redis, one replica at a time', async () => {
    const alone = new TenantRateLimiter({ keyPrefix: 'memory' });
    const tenant = randomUUID();
    const allowed = [];
    for (let i = 0; i < 3; i++) allowed.push((await alone.consume(tenant, 2)).allowed);
    expect(allowed).toEqual([true, true, false]);
  });
});
