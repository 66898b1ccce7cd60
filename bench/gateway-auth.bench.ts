/**
 * `npm run bench:auth`: what authentication costs at the gateway. GET /livez (no credentials,
 * answered by the gateway) against GET /v1/auth/me with an access token and with an API key
 * (answered by the gateway too, after authentication, authorization and the tenant's rate
 * limit), and GET /v1/tenants/:id with each (through NATS to the tenants service), at a fixed
 * rate and at saturation. The rate limiter counts in Redis when there is one, as in production.
 * Prints figures only, never pass/fail. BENCH_DURATION sets the seconds of each measured run
 * (default 10).
 */
import { Redis } from 'ioredis';
import {
  RUNS,
  call,
  findRedis,
  hex,
  login,
  measure,
  runBench,
  startBenchPlatform,
  type BenchPlatform,
  type Found,
} from './support/bench-platform';
import { printRatios, printTable, say, sayMachine, sayRuns } from './support/report';

/** High enough that the bench never meets the limit, while every request is still counted. */
const REQUESTS_PER_MINUTE = 100_000_000;

/** How many requests the tenant's rate-limit counter in Redis holds; undefined when none. */
async function redisCount(
  redis: Found,
  platform: BenchPlatform,
  tenantId: string,
): Promise<number | undefined> {
  const client = new Redis(redis.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const count = await client.get(`${platform.namespace}:rate:${tenantId}`);
    return count === null ? undefined : Number(count);
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

runBench(async (cleanup) => {
  const redis = await findRedis();
  const platform = await startBenchPlatform(cleanup, {
    env: redis ? { REDIS_URL: redis.url } : {},
  });
  const gateway = platform.gatewayUrl;

  const slug = `bench-${hex(4)}`;
  const tenant = await call<{ id: string }>('creating the tenant', `${gateway}/v1/tenants`, {
    method: 'POST',
    headers: platform.adminAuth,
    body: {
      slug,
      name: 'Bench Tenant',
      plan: 'custom',
      quotaOverrides: { requestsPerMinute: REQUESTS_PER_MINUTE },
    },
    expect: 201,
  });
  const user = { email: 'admin@bench.lattice.local', password: hex(12) };
  await call('creating the tenant admin', `${gateway}/v1/users`, {
    method: 'POST',
    headers: platform.adminAuth,
    body: { tenantId: tenant.id, ...user, roles: ['tenant-admin'] },
    expect: 201,
  });
  const jwt = await login(gateway, { tenant: slug, ...user });
  const { key } = await call<{ key: string }>('creating the API key', `${gateway}/v1/api-keys`, {
    method: 'POST',
    headers: jwt,
    body: { name: 'bench' },
    expect: 201,
  });
  const apiKey = { authorization: `Bearer ${key}` };

  // the rate limiter has counted the calls above: a counter in Redis shows it really counts there
  let limiter = 'no redis: the gateway counts rate limits in its own memory';
  if (redis) {
    const count = await redisCount(redis, platform, tenant.id);
    limiter =
      count === undefined
        ? `redis: ${redis.source}, but no counter for the tenant there: the gateway counts in memory`
        : `redis: ${redis.source}, the gateway's rate limiter counts there (${count} so far)`;
  }

  sayMachine();
  say(`postgres: ${platform.pgSource}, nats: ${platform.natsSource}, ${limiter}`);
  sayRuns(RUNS);
  say(
    `tenant: plan custom, ${REQUESTS_PER_MINUTE} requests per minute; credentials of a tenant-admin user`,
  );
  say('targets: livez          GET /livez, no credentials: answered by the gateway');
  say('         me-jwt         GET /v1/auth/me, access token: answered by the gateway');
  say('         me-apikey      GET /v1/auth/me, API key: answered by the gateway');
  say('         tenant-jwt     GET /v1/tenants/:id, access token: through NATS to tenants');
  say('         tenant-apikey  GET /v1/tenants/:id, API key: through NATS to tenants');
  say('');

  const me = `${gateway}/v1/auth/me`;
  const tenantUrl = `${gateway}/v1/tenants/${tenant.id}`;
  const rows = await measure([
    { target: 'livez', url: `${gateway}/livez`, headers: {} },
    { target: 'me-jwt', url: me, headers: jwt },
    { target: 'me-apikey', url: me, headers: apiKey },
    { target: 'tenant-jwt', url: tenantUrl, headers: jwt },
    { target: 'tenant-apikey', url: tenantUrl, headers: apiKey },
  ]);
  printTable(rows);
  printRatios(rows, [
    ['me-jwt', 'livez'],
    ['me-apikey', 'livez'],
    ['tenant-apikey', 'tenant-jwt'],
  ]);
});
