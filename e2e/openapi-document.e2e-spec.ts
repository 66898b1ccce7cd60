import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort } from '@lattice/local-infra';
import {
  TEST_INTERNAL_SECRET,
  eventually,
  testContextEnv,
  testNamespace,
  testNatsUrl,
} from '@lattice/testing';

jest.setTimeout(60_000);

const ROOT = resolve(__dirname, '..');

/**
 * The committed document is generated from a list of the gateway's controllers without the
 * platform; the built gateway must serve that same document, so none it mounts is left out.
 */
describe('the OpenAPI document the gateway serves', () => {
  let gateway: ChildProcess;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    gateway = spawn(process.execPath, [resolve(ROOT, 'dist/apps/gateway/src/main.js')], {
      env: {
        ...process.env,
        NATS_URL: testNatsUrl(),
        LATTICE_NAMESPACE: testNamespace(),
        LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
        ...testContextEnv('gateway'),
        GATEWAY_PORT: String(port),
        GATEWAY_HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });
  });
  afterAll(async () => {
    if (gateway.exitCode !== null) return;
    gateway.kill('SIGTERM');
    await once(gateway, 'exit');
  });

  it('is the one committed as apps/gateway/openapi.json', async () => {
    const served = await eventually(
      async () => {
        const response = await fetch(`${url}/docs/json`);
        expect(response.status).toBe(200);
        return response.json();
      },
      { timeoutMs: 30_000 },
    );
    const committed = JSON.parse(readFileSync(resolve(ROOT, 'apps/gateway/openapi.json'), 'utf8'));
    expect(served).toEqual(committed);
  });
});
