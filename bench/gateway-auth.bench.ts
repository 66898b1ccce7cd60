/**
 * `npm run bench:auth`: what authentication costs at the gateway. GET /v1/auth/me (answered by
 * the gateway after authorization and the tenant's rate limit) and GET /v1/tenants/:id (through
 * NATS to the tenants service), each with an access token, with an API key, and on a baseline
 * gateway with the credential check taken out, at a fixed rate and at saturation; GET /livez
 * as the floor. The rate limiter counts in Redis when there is one, as in production.
 * Prints figures only, never pass/fail. BENCH_DURATION sets the seconds of each measured run
 * (default 10).
 */
import { Redis } from 'ioredis';
import { contextFromClaims, type AccessClaims } from '@lattice/authz';
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

  // the baseline: the same routes on a gateway that takes every call to come from this user
  // without checking any credential (bench/support/credential-free-gateway.ts)
  const claims = JSON.parse(
    Buffer.from(jwt.authorization.split('.')[1]!, 'base64url').toString(),
  ) as AccessClaims;
  const { requestId: _unused, ...principal } = contextFromClaims(claims, '');
  const bare = await platform.startGatewayVariant(
    'gateway-without-credentials',
    'bench/support/credential-free-gateway.js',
    { BENCH_PRINCIPAL: JSON.stringify(principal) },
  );

  sayMachine();
  say(`postgres: ${platform.pgSource}, nats: ${platform.natsSource}, ${limiter}`);
  sayRuns(RUNS);
  say(
    `tenant: plan custom, ${REQUESTS_PER_MINUTE} requests per minute; credentials of a tenant-admin user`,
  );
  say('targets: livez          GET /livez, no credentials: answered by the gateway');
  say('         me-none        GET /v1/auth/me, no credential checked (baseline gateway)');
  say('         me-jwt         GET /v1/auth/me, access token: answered by the gateway');
  say('         me-apikey      GET /v1/auth/me, API key: answered by the gateway');
  say('         tenant-none    GET /v1/tenants/:id, no credential checked (baseline gateway)');
  say('         tenant-jwt     GET /v1/tenants/:id, access token: through NATS to tenants');
  say('         tenant-apikey  GET /v1/tenants/:id, API key: through NATS to tenants');
  say('  the baseline gateway is the same build, with only its credential check taken out;');
  say('  permissions, the tenant check, the rate limit and the handler run as usual');
  say('');

  const route = {
    me: (base: string) => `${base}/v1/auth/me`,
    tenant: (base: string) => `${base}/v1/tenants/${tenant.id}`,
  };
  const rows = await measure([
    { target: 'livez', url: `${gateway}/livez`, headers: {} },
    { target: 'me-none', url: route.me(bare), headers: {} },
    { target: 'me-jwt', url: route.me(gateway), headers: jwt },
    { target: 'me-apikey', url: route.me(gateway), headers: apiKey },
    { target: 'tenant-none', url: route.tenant(bare), headers: {} },
    { target: 'tenant-jwt', url: route.tenant(gateway), headers: jwt },
    { target: 'tenant-apikey', url: route.tenant(gateway), headers: apiKey },
  ]);
  printTable(rows);
  printRatios(rows, [
    ['me-jwt', 'me-none'],
    ['me-apikey', 'me-none'],
    ['tenant-jwt', 'tenant-none'],
    ['tenant-apikey', 'tenant-none'],
  ]);
});
