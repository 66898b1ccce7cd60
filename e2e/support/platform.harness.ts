import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { freePort } from '@lattice/local-infra';
import {
  TEST_APP_PASSWORD,
  TEST_INTERNAL_SECRET,
  createTestDatabase,
  testNamespace,
  testNatsUrl,
  testPostgresUrl,
} from '@lattice/testing';
import { startPlatform, type RunningPlatform } from '../../tools/launcher/src/platform';

export const E2E_TOKEN = 'e2e-bootstrap-token-0123456789abcdef';
const DIST = resolve(__dirname, '../../dist');

/** A fetch Response whose JSON body the tests read loosely; their assertions check its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type E2EResponse = Omit<Response, 'json'> & { json(): Promise<any> };

export interface E2EPlatform extends RunningPlatform {
  logs: string[];
  /** fetch against the gateway with the bootstrap token unless `auth: false`. */
  call(path: string, init?: RequestInit & { auth?: boolean; json?: unknown }): Promise<E2EResponse>;
}

/** The built platform as processes, on a fresh database and NATS namespace of this file's own. */
export async function startE2EPlatform(env: Record<string, string> = {}): Promise<E2EPlatform> {
  if (!existsSync(resolve(DIST, 'apps/gateway/src/main.js'))) {
    throw new Error('dist/ is missing: end-to-end tests run the built services (npm run build)');
  }
  const database = await createTestDatabase(testPostgresUrl());
  const logs: string[] = [];
  const platform = await startPlatform({
    databaseUrl: database.url,
    natsUrl: testNatsUrl(),
    internalSecret: TEST_INTERNAL_SECRET,
    bootstrapToken: E2E_TOKEN,
    appPassword: TEST_APP_PASSWORD,
    namespace: testNamespace(),
    gatewayPort: await freePort(),
    tenantsPort: await freePort(),
    auditPort: await freePort(),
    logLevel: 'info',
    env,
    distDir: DIST,
    log: (service, line) => logs.push(`${service} ${line}`),
  });
  return {
    ...platform,
    logs,
    call: (path, init = {}) => {
      const { auth = true, json, headers, ...rest } = init;
      const allHeaders = {
        ...(auth ? { authorization: `Bearer ${E2E_TOKEN}` } : {}),
        ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(headers as Record<string, string>),
      };
      const body = json !== undefined ? JSON.stringify(json) : rest.body;
      return fetch(platform.gatewayUrl + path, { ...rest, headers: allHeaders, body });
    },
    stop: async () => {
      await platform.stop();
      await database.drop();
    },
  };
}
