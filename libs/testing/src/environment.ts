import { randomBytes } from 'node:crypto';
import {
  LocalNatsServer,
  LocalRedisServer,
  REDIS_INSTALL_HINT,
  answers,
  natsServerBinary,
  natsServerVersion,
  postgresAnswers,
  redisServerBinary,
  startEmbeddedPostgres,
} from '@lattice/local-infra';

const LOCAL_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';
const LOCAL_REDIS = 'redis://127.0.0.1:6379';

export interface TestInfrastructure {
  postgresUrl: string;
  natsUrl: string;
  /** Undefined only where there is no Redis and no redis-server to start (said in the log). */
  redisUrl?: string;
  stop(): Promise<void>;
}

/**
 * The PostgreSQL, NATS and Redis the tests run against: those named by DATABASE_URL /
 * NATS_URL / REDIS_URL, else the PostgreSQL and Redis on this machine's standard ports, else
 * ones started here. NATS without NATS_URL is always a nats-server of this run's own, of the
 * release production runs (built once per machine; see tools/nats-server).
 */
export async function provideInfrastructure(
  log: (line: string) => void = () => undefined,
): Promise<TestInfrastructure> {
  const stops: (() => Promise<void>)[] = [];

  let postgresUrl = process.env.DATABASE_URL;
  if (!postgresUrl) {
    if (await postgresAnswers(LOCAL_POSTGRES)) postgresUrl = LOCAL_POSTGRES;
    else {
      log('no PostgreSQL on 127.0.0.1:5432; starting an embedded one');
      const pg = await startEmbeddedPostgres();
      stops.push(pg.stop);
      postgresUrl = pg.url;
    }
  }

  // not whatever NATS this machine runs: the release production runs, started for this run
  let natsUrl = process.env.NATS_URL;
  if (!natsUrl) {
    const nats = await LocalNatsServer.start();
    stops.push(() => nats.stop());
    natsUrl = nats.url;
    log(`started ${natsServerVersion(natsServerBinary())} with JetStream at ${natsUrl}`);
  }

  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    if (await answers('127.0.0.1', 6379)) redisUrl = LOCAL_REDIS;
    else {
      const binary = redisServerBinary();
      if (binary) {
        log('no Redis on 127.0.0.1:6379; starting redis-server');
        const redis = await LocalRedisServer.start(binary);
        stops.push(() => redis.stop());
        redisUrl = redis.url;
      } else {
        log(
          `no Redis and no redis-server: tests of limits shared through Redis are skipped; ${REDIS_INSTALL_HINT}`,
        );
      }
    }
  }

  return {
    postgresUrl,
    natsUrl,
    redisUrl,
    stop: async () => {
      for (const stop of stops.reverse()) await stop();
    },
  };
}

export const TEST_POSTGRES_ENV = 'LATTICE_TEST_POSTGRES_URL';
export const TEST_NATS_ENV = 'LATTICE_TEST_NATS_URL';
export const TEST_REDIS_ENV = 'LATTICE_TEST_REDIS_URL';

/** A URL the harness's global setup hands the test files; a file run without it is told so. */
function harnessUrl(name: string): string {
  const url = process.env[name];
  if (!url)
    throw new Error(`${name} is not set: run integration tests through jest's global setup`);
  return url;
}

export function testPostgresUrl(): string {
  return harnessUrl(TEST_POSTGRES_ENV);
}

export function testNatsUrl(): string {
  return harnessUrl(TEST_NATS_ENV);
}

/** The Redis of this test run, or undefined where none could be had (the harness said so). */
export function testRedisUrl(): string | undefined {
  return process.env[TEST_REDIS_ENV] || undefined;
}

/** A subject/stream prefix of this test file's own, so files run in parallel on one NATS. */
export function testNamespace(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

export const TEST_INTERNAL_SECRET = 'test-internal-secret-0123456789abcdef';
export const TEST_APP_PASSWORD = 'lattice-test-app-password';
