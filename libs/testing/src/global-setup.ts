import {
  provideInfrastructure,
  TEST_NATS_ENV,
  TEST_POSTGRES_ENV,
  TEST_REDIS_ENV,
} from './environment';

/** Jest global setup: finds or starts PostgreSQL, NATS and Redis once for every test file. */
export default async function globalSetup(): Promise<void> {
  const infra = await provideInfrastructure((line) =>
    process.stderr.write(`[test harness] ${line}\n`),
  );
  process.env[TEST_POSTGRES_ENV] = infra.postgresUrl;
  process.env[TEST_NATS_ENV] = infra.natsUrl;
  if (infra.redisUrl) process.env[TEST_REDIS_ENV] = infra.redisUrl;
  (globalThis as { __latticeInfra?: typeof infra }).__latticeInfra = infra;
}
