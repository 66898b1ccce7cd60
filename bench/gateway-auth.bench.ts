/**
 * `npm run bench:auth`: what authentication costs at the gateway. GET /v1/auth/me (answered by
 * the gateway after authorization and the tenant's rate limit) and GET /v1/tenants/:id (served
 * from the gateway's tenant cache), each with an access token, with an API key, and with no
 * credential on a gateway that takes a call without one to come from the same user (in the same
 * process as the calls with one, so a ratio compares one process with itself); GET /livez as
 * the floor. The rate
 * limiter counts in Redis when there is one, as in production. The two targets of each
 * comparison are driven in adjacent turns, for several rounds (bench/support/interleave.ts);
 * each ratio is printed as the median of the rounds with its spread. With BENCH_BEFORE_DIST naming another build's dist/
 * (say of the commit before a change), that build's gateways are driven in the same turns.
 * Prints figures only, never pass/fail. BENCH_ROUNDS and BENCH_DURATION (seconds per turn)
 * override the plan.
 */
import { Redis } from 'ioredis';
import { contextFromClaims, type AccessClaims } from '@lattice/authz';
import {
  call,
  findRedis,
  hex,
  login,
  runBench,
  startBenchPlatform,
  type BenchPlatform,
  type Found,
} from './support/bench-platform';
import {
  interleave,
  pinServers,
  planFromEnv,
  printComparisons,
  printStages,
  printTargets,
  sayPlan,
  type Comparison,
  type Target,
} from './support/interleave';
import { say, sayMachine } from './support/report';

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
  const plan = planFromEnv();
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

  // the targets: the same routes on a gateway that checks every credential sent and takes a
  // call without one to come from this user (bench/support/credential-free-gateway.ts)
  const claims = JSON.parse(
    Buffer.from(jwt.authorization.split('.')[1]!, 'base64url').toString(),
  ) as AccessClaims;
  const { requestId: _unused, ...principal } = contextFromClaims(claims, '');
  const withoutCredentials = 'bench/support/credential-free-gateway.js';
  const credentialFree = { BENCH_PRINCIPAL: JSON.stringify(principal) };
  const measured = await platform.startGatewayVariant(
    'gateway-credential-optional',
    withoutCredentials,
    credentialFree,
  );
  const beforeDist = process.env.BENCH_BEFORE_DIST;
  const before = beforeDist
    ? {
        gateway: await platform.startGatewayVariant(
          'gateway-before',
          'apps/gateway/src/main.js',
          {},
          beforeDist,
        ),
        bare: await platform.startGatewayVariant(
          'gateway-before-without-credentials',
          withoutCredentials,
          credentialFree,
          beforeDist,
        ),
      }
    : undefined;

  sayMachine();
  say(`postgres: ${platform.pgSource}, nats: ${platform.natsSource}, ${limiter}`);
  sayPlan(plan);
  say(
    `tenant: plan custom, ${REQUESTS_PER_MINUTE} requests per minute; credentials of a tenant-admin user`,
  );
  say('targets: livez          GET /livez, no credentials: answered by the gateway');
  say('         me-none        GET /v1/auth/me, no credential: taken as the tenant admin');
  say('         me-jwt         GET /v1/auth/me, access token: answered by the gateway');
  say('         me-apikey      GET /v1/auth/me, API key: answered by the gateway');
  say('         tenant-none    GET /v1/tenants/:id, no credential: taken as the tenant admin');
  say("         tenant-jwt     GET /v1/tenants/:id, access token: from the gateway's tenant cache");
  say("         tenant-apikey  GET /v1/tenants/:id, API key: from the gateway's tenant cache");
  say('  all on one gateway process of this build, which checks every credential sent and takes');
  say('  a call without one to come from the same tenant admin; permissions, the tenant check,');
  say('  the rate limit and the handler run as usual');
  if (before)
    say(
      `         before-*       the same targets on the build in ${beforeDist}, its calls without ` +
        'a credential on a second process of it',
    );
  say('');

  const route = {
    me: (base: string) => `${base}/v1/auth/me`,
    tenant: (base: string) => `${base}/v1/tenants/${tenant.id}`,
  };
  const targetsOf = (gatewayUrl: string, bareUrl: string, prefix = ''): Target[] => {
    const [pid, barePid] = [platform.pidOf(gatewayUrl), platform.pidOf(bareUrl)];
    return [
      { target: `${prefix}livez`, url: `${gatewayUrl}/livez`, headers: {}, pid },
      { target: `${prefix}me-none`, url: route.me(bareUrl), headers: {}, pid: barePid },
      { target: `${prefix}me-jwt`, url: route.me(gatewayUrl), headers: jwt, pid },
      { target: `${prefix}me-apikey`, url: route.me(gatewayUrl), headers: apiKey, pid },
      { target: `${prefix}tenant-none`, url: route.tenant(bareUrl), headers: {}, pid: barePid },
      { target: `${prefix}tenant-jwt`, url: route.tenant(gatewayUrl), headers: jwt, pid },
      { target: `${prefix}tenant-apikey`, url: route.tenant(gatewayUrl), headers: apiKey, pid },
    ];
  };
  const authComparisons = (prefix = ''): Comparison[] => [
    { a: `${prefix}me-jwt`, b: `${prefix}me-none`, goal: 0.9 },
    { a: `${prefix}me-apikey`, b: `${prefix}me-none`, goal: 0.9 },
    { a: `${prefix}tenant-jwt`, b: `${prefix}tenant-none`, goal: 0.9 },
    { a: `${prefix}tenant-apikey`, b: `${prefix}tenant-none`, goal: 0.9 },
  ];
  const comparisons = [
    ...authComparisons(),
    ...(before
      ? [
          ...authComparisons('before-'),
          ...['livez', 'me-jwt', 'me-apikey', 'tenant-jwt', 'tenant-apikey'].map((t) => ({
            a: t,
            b: `before-${t}`,
          })),
        ]
      : []),
  ];
  const targets = [
    // this build's targets all on the one process that serves calls with and without a credential
    ...targetsOf(measured, measured),
    ...(before ? targetsOf(before.gateway, before.bare, 'before-') : []),
  ];
  pinServers(targets);
  const samples = await interleave(targets, comparisons, plan);
  printTargets(samples, 'at saturation (median of all turns, min-max):');
  printComparisons(samples, comparisons);
  const stagesOf = (prefix = '') => [
    { stage: `${prefix}token check (me)`, with: `${prefix}me-jwt`, without: `${prefix}me-none` },
    {
      stage: `${prefix}API key check (me)`,
      with: `${prefix}me-apikey`,
      without: `${prefix}me-none`,
    },
    {
      stage: `${prefix}route past livez (me)`,
      with: `${prefix}me-none`,
      without: `${prefix}livez`,
    },
  ];
  printStages(samples, [...stagesOf(), ...(before ? stagesOf('before-') : [])]);
});
