import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { answers, testNamespace } from '@lattice/testing';
import { TenantRateLimiter } from './rate-limiter';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Two gateway replicas, each with its own Redis connection, counting one tenant's requests. */
describe(TenantRateLimiter.name, () => {
  let reachable = false;
  const replicas: TenantRateLimiter[] = [];

  beforeAll(async () => {
    const url = new URL(REDIS_URL);
    reachable = await answers(url.hostname, Number(url.port || 6379));
    if (!reachable) {
      process.stderr.write(`[rate limits] no Redis at ${REDIS_URL}: shared-limit test skipped\n`);
      return;
    }
    const keyPrefix = `${testNamespace()}:rate`;
    for (let i = 0; i < 2; i++)
      replicas.push(new TenantRateLimiter({ redis: new Redis(REDIS_URL), keyPrefix }));
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.onModuleDestroy();
  });

  it('holds the limit across replicas sharing Redis', async () => {
    if (!reachable) return;
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
