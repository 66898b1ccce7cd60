import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import {
  SchedulerJobsComplete,
  SchedulerJobsFail,
  SchedulerJobsHeartbeat,
  SchedulerJobsLease,
  SchedulerJobsProgress,
  SchedulerJobsStart,
  SchedulerWorkersRegister,
  serviceAccess,
} from '@lattice/contracts';
import type { NatsCredentials } from '@lattice/messaging';
import {
  TEST_APP_PASSWORD,
  TEST_INTERNAL_SECRET,
  createTestDatabase,
  testNamespace,
  startNatsWithServiceUsers,
  testContextKeySet,
  testRedisUrl,
  testPostgresUrl,
} from '@lattice/testing';
import {
  freePlatformPorts,
  startPlatform,
  type RunningPlatform,
} from '../../tools/launcher/src/platform';

import { KeyRing } from '@lattice/secrets';

export const E2E_ADMIN = { email: 'admin@e2e.lattice.dev', password: 'e2e-admin-password-0123' };
const DIST = resolve(__dirname, '../../dist');

/** The launcher's line for a service that stopped while the platform was up. */
const CRASHED = /; restarting it in |: giving up on it/;

/**
 * A service that stops under a test fails that test in ways its assertions cannot explain (a
 * 503 while it restarts); its last lines go to stderr when it happens, so a run's output says why.
 */
function reportCrash(logs: readonly string[], line: string): void {
  const service = line.split(' ')[0];
  const own = logs.filter((entry) => entry.startsWith(`${service} `)).slice(-40);
  process.stderr.write(`[e2e platform] ${line}\n${own.map((entry) => `  ${entry}`).join('\n')}\n`);
}

/** A fetch Response whose JSON body the tests read loosely; their assertions check its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type E2EResponse = Omit<Response, 'json'> & { json(): Promise<any> };

export interface E2EPlatform extends RunningPlatform {
  logs: string[];
  /** The database the services keep their schemas in, for looking under their feet. */
  databaseUrl: string;
  /** The key-encryption keys the services were given. */
  kek: string;
  /**
   * The NATS the services talk over (this platform's own, where each service is a user with
   * only the rights it declares), and this platform's subject namespace on it.
   */
  natsUrl: string;
  namespace: string;
  /** The NATS user of a service, or of the harness's stand-in worker (`E2E_WORKER`). */
  natsCredentialsOf(service: string): NatsCredentials;
  /** The platform admin's access token. */
  adminToken: string;
  /**
   * fetch against the gateway: as the platform admin, or with `token` as someone else, or
   * with no credentials at all when `auth: false`.
   */
  call(
    path: string,
    init?: RequestInit & { auth?: boolean; token?: string; json?: unknown },
  ): Promise<E2EResponse>;
  /** Signs in and returns the access and refresh tokens. */
  login(
    tenant: string,
    email: string,
    password: string,
  ): Promise<{ accessToken: string; refreshToken: string }>;
  /** A new tenant, created by the platform admin (on the professional plan unless told). */
  newTenant(options?: { plan?: string; slugPrefix?: string }): Promise<E2ETenant>;
  /** A new user of `tenant` with `roles`, signed in: their access token and address. */
  newMember(tenant: E2ETenant, roles: string[]): Promise<{ token: string; email: string }>;
}

export interface E2ETenant {
  id: string;
  slug: string;
}

/** The password of every user the harness creates. */
export const E2E_MEMBER_PASSWORD = 'a-password-long-enough';

/** A worker of the scheduler's, as tests stand one in: its NATS user may make worker calls only. */
export const E2E_WORKER = serviceAccess({
  service: 'e2e-worker',
  calls: [
    SchedulerWorkersRegister,
    SchedulerJobsLease,
    SchedulerJobsHeartbeat,
    SchedulerJobsStart,
    SchedulerJobsProgress,
    SchedulerJobsComplete,
    SchedulerJobsFail,
  ],
});

/**
 * The built platform as processes, on a fresh database and a NATS server of this file's own
 * on which each service is its own user, as `npm start` and the chart run it.
 */
export async function startE2EPlatform(env: Record<string, string> = {}): Promise<E2EPlatform> {
  if (!existsSync(resolve(DIST, 'apps/gateway/src/main.js'))) {
    throw new Error('dist/ is missing: end-to-end tests run the built services (npm run build)');
  }
  const database = await createTestDatabase(testPostgresUrl());
  const logs: string[] = [];
  const kek = KeyRing.generateSpec('e2e');
  const namespace = testNamespace();
  const nats = await startNatsWithServiceUsers(namespace, [E2E_WORKER]);
  const start = async () =>
    startPlatform({
      databaseUrl: database.url,
      natsUrl: nats.url,
      natsPasswords: nats.passwords,
      // the keys tests sign with too (`testGatewaySigner`)
      contextKeys: testContextKeySet(),
      internalSecret: TEST_INTERNAL_SECRET,
      kek,
      admin: E2E_ADMIN,
      appPassword: TEST_APP_PASSWORD,
      namespace,
      ...(await freePlatformPorts()),
      logLevel: 'info',
      // the gateway's rate limits count in Redis as in production, where the harness has one
      env: { ...(testRedisUrl() ? { REDIS_URL: testRedisUrl()! } : {}), ...env },
      distDir: DIST,
      log: (service, line) => {
        logs.push(`${service} ${line}`);
        if (service === 'launcher' && CRASHED.test(line)) reportCrash(logs, line);
      },
    });
  // a port handed out as free can be taken by another process before its service listens on
  // it (the service then cannot start): the platform starts once more, on other ports
  const platform = await start().catch((error: unknown) => {
    if (!logs.some((line) => line.includes('EADDRINUSE'))) throw error;
    process.stderr.write('[e2e platform] a port was taken before its service listened: again\n');
    return start();
  });
  const login = async (tenant: string, email: string, password: string) => {
    const response = await fetch(`${platform.gatewayUrl}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant, email, password }),
    });
    if (response.status !== 200)
      throw new Error(`login failed: ${response.status} ${await response.text()}`);
    return (await response.json()) as { accessToken: string; refreshToken: string };
  };
  const adminToken = (await login('platform', E2E_ADMIN.email, E2E_ADMIN.password)).accessToken;
  const asAdmin = async (path: string, json: unknown) => {
    const response = await fetch(platform.gatewayUrl + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(json),
    });
    if (response.status !== 201)
      throw new Error(`POST ${path} failed: ${response.status} ${await response.text()}`);
    return (await response.json()) as { id: string };
  };
  return {
    ...platform,
    logs,
    adminToken,
    login,
    newTenant: async ({ plan = 'professional', slugPrefix = 't' } = {}) => {
      const slug = `${slugPrefix}-${randomUUID().slice(0, 8)}`;
      const { id } = await asAdmin('/v1/tenants', { slug, name: slug, plan });
      return { id, slug };
    },
    newMember: async (tenant, roles) => {
      const email = `${roles[0] ?? 'user'}-${randomUUID().slice(0, 6)}@example.com`;
      await asAdmin('/v1/users', {
        tenantId: tenant.id,
        email,
        password: E2E_MEMBER_PASSWORD,
        roles,
      });
      const { accessToken } = await login(tenant.slug, email, E2E_MEMBER_PASSWORD);
      return { token: accessToken, email };
    },
    databaseUrl: database.url,
    kek,
    natsUrl: nats.url,
    namespace,
    natsCredentialsOf: nats.credentialsOf,
    call: (path, init = {}) => {
      const { auth = true, token = adminToken, json, headers, ...rest } = init;
      const allHeaders = {
        ...(auth ? { authorization: `Bearer ${token}` } : {}),
        ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(headers as Record<string, string>),
      };
      const body = json !== undefined ? JSON.stringify(json) : rest.body;
      return fetch(platform.gatewayUrl + path, { ...rest, headers: allHeaders, body });
    },
    stop: async () => {
      await platform.stop();
      await nats.stop();
      await database.drop();
    },
  };
}
