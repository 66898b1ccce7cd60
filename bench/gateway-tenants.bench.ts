/**
 * `npm run bench`: where a request's time goes at the gateway. A cached GET /v1/tenants/:id
 * through the gateway against a bare Fastify route answering the same body; the gateway's own
 * `/livez` against bare Fastify's (the framework's share); and a bare NATS responder's round
 * trip against an in-process call, each behind a bare Fastify route (the NATS hop's share);
 * and the tenant read through a second gateway that logs every request, as a deployment at
 * the default level (info) does, against the platform's, which logs at warn (the log line's).
 * Every baseline runs in a process of its own, as the gateway does. The two targets of each
 * comparison are driven in adjacent turns, for several rounds (bench/support/interleave.ts);
 * each ratio is printed as the median of the rounds with its spread. Then the tenant read at
 * half its peak, open loop (bench/support/open-loop.ts), for its p99, beside bare Fastify at the
 * same rate: the latency the machine itself gives at that load, which each round's p99 is also
 * given less. With BENCH_BEFORE_DIST naming another build's dist/ (say of the commit before a
 * change), that build's gateway is driven in the same turns, and so is a second gateway process
 * of this build, whose ratio to the first is the noise floor of the before/after ratios. Prints
 * figures only, never pass/fail. BENCH_ROUNDS and BENCH_DURATION (seconds per turn) override the
 * plan.
 */
import {
  call,
  hex,
  runBench,
  startBareProcess,
  startBenchPlatform,
} from './support/bench-platform';
import {
  atFixedRate,
  interleave,
  medianRps,
  pinServers,
  planFromEnv,
  printComparisons,
  printFixedRate,
  printStages,
  printTargets,
  sayPlan,
  type Comparison,
  type Target,
} from './support/interleave';
import { say, sayMachine } from './support/report';

runBench(async (cleanup) => {
  const plan = planFromEnv();
  const platform = await startBenchPlatform(cleanup);
  const auth = platform.adminAuth;
  const tenant = await call<{ id: string }>(
    'creating the tenant',
    `${platform.gatewayUrl}/v1/tenants`,
    {
      method: 'POST',
      headers: auth,
      body: { slug: `bench-${hex(4)}`, name: 'Bench Tenant' },
      expect: 201,
    },
  );
  const tenantPath = `/v1/tenants/${tenant.id}`;
  const body = await call<Record<string, unknown>>(
    'reading the tenant',
    `${platform.gatewayUrl}${tenantPath}`,
    { headers: auth },
  );

  const livez = await call<Record<string, unknown>>(
    "the gateway's /livez",
    `${platform.gatewayUrl}/livez`,
    {},
  );

  // the baselines answer the same objects, so every target sends a body of the same size
  const bareEnv = {
    BENCH_BODY: JSON.stringify(body),
    BENCH_LIVEZ_BODY: JSON.stringify(livez),
    BENCH_SUBJECT: `${platform.namespace}.bench.bare`,
    NATS_URL: platform.natsUrl,
  };
  await startBareProcess(cleanup, 'bare nats responder', { ...bareEnv, BARE_MODE: 'responder' });
  const bareHttp = await startBareProcess(cleanup, 'bare fastify', {
    ...bareEnv,
    BARE_MODE: 'http',
  });
  const bare = `http://127.0.0.1:${bareHttp.port}`;

  // the platform's gateway logs at warn; a deployment at its default level writes one line per
  // request, which this second gateway of the same build does
  const loggedUrl = await platform.startGatewayVariant('gateway-info', 'apps/gateway/src/main.js', {
    LOG_LEVEL: 'info',
  });
  const before = process.env.BENCH_BEFORE_DIST;
  const beforeUrl = before
    ? await platform.startGatewayVariant('gateway-before', 'apps/gateway/src/main.js', {}, before)
    : undefined;
  // a second process of this build beside the one before: two processes of one build differed
  // by up to a sixth in CPU per request here, and a before/after ratio means something only
  // beyond what this build's two give
  const twinUrl = before
    ? await platform.startGatewayVariant('gateway-twin', 'apps/gateway/src/main.js', {})
    : undefined;

  sayMachine();
  say(
    `postgres: ${platform.pgSource}, nats: ${platform.natsSource}, body: ${JSON.stringify(body).length} bytes`,
  );
  sayPlan(plan);
  say('targets: tenant           GET /v1/tenants/:id through the gateway (platform admin, cached)');
  say('         bare-tenant      the same body from a bare Fastify route');
  say('         livez            GET /livez of the gateway');
  say('         bare-livez       the same body from a bare Fastify route');
  say('         bare-nats        a bare Fastify route asking a bare NATS responder for the body');
  say('         bare-in-process  a bare Fastify route awaiting an in-process call for the body');
  say(
    '         logged-tenant    GET /v1/tenants/:id through a gateway logging each request (info)',
  );
  if (beforeUrl) {
    say(`         before-*         the same routes on the build in ${before}`);
    say('         twin-*           the same routes on a second gateway process of this build');
  }
  say('');

  const gatewayPid = platform.pidOf(platform.gatewayUrl);
  const beforePid = beforeUrl ? platform.pidOf(beforeUrl) : undefined;
  const twinPid = twinUrl ? platform.pidOf(twinUrl) : undefined;
  const targets: Target[] = [
    {
      target: 'tenant',
      url: `${platform.gatewayUrl}${tenantPath}`,
      headers: auth,
      pid: gatewayPid,
    },
    { target: 'bare-tenant', url: `${bare}${tenantPath}`, headers: auth, pid: bareHttp.pid },
    { target: 'livez', url: `${platform.gatewayUrl}/livez`, headers: {}, pid: gatewayPid },
    { target: 'bare-livez', url: `${bare}/livez`, headers: {}, pid: bareHttp.pid },
    // the NATS hop's cost is the responder's and nats-server's as much as this process's:
    // compared by throughput only
    { target: 'bare-nats', url: `${bare}/nats/${tenant.id}`, headers: {} },
    { target: 'bare-in-process', url: `${bare}/in-process/${tenant.id}`, headers: {} },
    {
      target: 'logged-tenant',
      url: `${loggedUrl}${tenantPath}`,
      headers: auth,
      pid: platform.pidOf(loggedUrl),
    },
    ...(beforeUrl
      ? [
          {
            target: 'before-tenant',
            url: `${beforeUrl}${tenantPath}`,
            headers: auth,
            pid: beforePid,
          },
          { target: 'before-livez', url: `${beforeUrl}/livez`, headers: {}, pid: beforePid },
        ]
      : []),
    ...(twinUrl
      ? [
          { target: 'twin-tenant', url: `${twinUrl}${tenantPath}`, headers: auth, pid: twinPid },
          { target: 'twin-livez', url: `${twinUrl}/livez`, headers: {}, pid: twinPid },
        ]
      : []),
  ];
  const comparisons: Comparison[] = [
    { a: 'tenant', b: 'bare-tenant', goal: 0.35 },
    { a: 'livez', b: 'bare-livez', goal: 0.7 },
    { a: 'bare-nats', b: 'bare-in-process' },
    { a: 'logged-tenant', b: 'tenant' },
    ...(beforeUrl
      ? [
          { a: 'before-tenant', b: 'bare-tenant', goal: 0.35 },
          { a: 'before-livez', b: 'bare-livez', goal: 0.7 },
          { a: 'tenant', b: 'before-tenant' },
          { a: 'livez', b: 'before-livez' },
          // the noise floor of the two lines above: the same build in two processes
          { a: 'tenant', b: 'twin-tenant' },
          { a: 'livez', b: 'twin-livez' },
        ]
      : []),
  ];
  pinServers(targets);
  const samples = await interleave(targets, comparisons, plan);
  printTargets(samples, 'at saturation (median of all turns, min-max):');
  printComparisons(samples, comparisons);
  printStages(samples, [
    { stage: 'gateway framework (livez)', with: 'livez', without: 'bare-livez' },
    { stage: 'guards, route, cache (tenant)', with: 'tenant', without: 'livez' },
    { stage: 'NATS request/reply hop', with: 'bare-nats', without: 'bare-in-process' },
    { stage: 'request log line (info)', with: 'logged-tenant', without: 'tenant' },
    ...(beforeUrl
      ? [
          { stage: 'before: framework (livez)', with: 'before-livez', without: 'bare-livez' },
          { stage: 'before: guards, route, cache', with: 'before-tenant', without: 'before-livez' },
        ]
      : []),
  ]);

  const halfPeak = (t: Target) => ({ ...t, rate: medianRps(samples, t.target) / 2 });
  const tenantRate = medianRps(samples, 'tenant') / 2;
  const fixed = await atFixedRate(
    [
      ...targets.filter((t) => t.target === 'tenant' || t.target === 'before-tenant').map(halfPeak),
      // the same body from bare Fastify at the gateway's rate: the latency this machine gives
      // any server at that load (its other processes, the load generator), for the p99 to be
      // read against
      { ...targets.find((t) => t.target === 'bare-tenant')!, rate: tenantRate },
    ],
    plan,
  );
  printFixedRate(fixed, 10, 'bare-tenant');
});
