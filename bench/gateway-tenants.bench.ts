/**
 * `npm run bench`: GET /v1/tenants/:id through the gateway against a bare Fastify route returning a
 * body of the same size, at a fixed rate and at saturation. Prints figures only, never pass/fail.
 * BENCH_DURATION sets the seconds of each measured run (default 10).
 */
import Fastify from 'fastify';
import { freePort } from '@lattice/local-infra';
import { RUNS, call, hex, measure, runBench, startBenchPlatform } from './support/bench-platform';
import { printRatios, printTable, say, sayMachine, sayRuns } from './support/report';

runBench(async (cleanup) => {
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
  const tenantUrl = `${platform.gatewayUrl}/v1/tenants/${tenant.id}`;
  const body = await call<Record<string, unknown>>('reading the tenant', tenantUrl, {
    headers: auth,
  });

  // the bare route answers the same object, so both send a body of the same size
  const bare = Fastify({ logger: false });
  bare.get('/v1/tenants/:id', async () => body);
  const barePort = await freePort();
  await bare.listen({ host: '127.0.0.1', port: barePort });
  cleanup.add('bare fastify', () => bare.close());
  const bareUrl = `http://127.0.0.1:${barePort}/v1/tenants/${tenant.id}`;

  sayMachine();
  say(
    `postgres: ${platform.pgSource}, nats: ${platform.natsSource}, body: ${JSON.stringify(body).length} bytes`,
  );
  sayRuns(RUNS);
  say('');

  const rows = await measure([
    { target: 'gateway', url: tenantUrl, headers: auth },
    { target: 'bare', url: bareUrl, headers: auth },
  ]);
  printTable(rows);
  printRatios(rows, [['gateway', 'bare']]);
});
