import { provideInfrastructure, TEST_NATS_ENV, TEST_POSTGRES_ENV } from './environment';

/** Jest global setup: finds or starts PostgreSQL and NATS once for every test file. */
export default async function globalSetup(): Promise<void> {
  const infra = await provideInfrastructure((line) =>
    process.stderr.write(`[test harness] ${line}\n`),
  );
  process.env[TEST_POSTGRES_ENV] = infra.postgresUrl;
  process.env[TEST_NATS_ENV] = infra.natsUrl;
  (globalThis as { __latticeInfra?: typeof infra }).__latticeInfra = infra;
}
