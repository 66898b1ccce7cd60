import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { answers, freePort } from '@lattice/local-infra';

jest.setTimeout(240_000);

const LAUNCHER = resolve(__dirname, '../dist/tools/launcher/src/main.js');

/**
 * `npm start` as a user runs it: embedded PostgreSQL, its own nats-server, every service, the
 * printed admin login working against the API; and a SIGTERM to the launcher alone (as a
 * supervisor sends) stopping everything it started.
 */
describe('the launcher', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'lattice-launcher-'));
  // as root, embedded PostgreSQL runs as another user, who must reach its data (mkdtemp is 0700)
  chmodSync(stateDir, 0o755);
  let launcher: ChildProcess | undefined;
  let output = '';
  const ports: Record<string, number> = {};

  afterAll(() => {
    if (launcher && launcher.exitCode === null) launcher.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('runs the platform from one command, and stops all of it on SIGTERM', async () => {
    for (const name of ['postgres', 'gateway', 'tenants', 'auth', 'audit'])
      ports[name] = await freePort();
    const env = { ...process.env };
    for (const name of ['DATABASE_URL', 'NATS_URL', 'REDIS_URL']) delete env[name];
    launcher = spawn(process.execPath, [LAUNCHER], {
      env: {
        ...env,
        LATTICE_STATE_DIR: stateDir,
        LATTICE_POSTGRES_PORT: String(ports.postgres),
        GATEWAY_PORT: String(ports.gateway),
        TENANTS_HTTP_PORT: String(ports.tenants),
        AUTH_HTTP_PORT: String(ports.auth),
        AUDIT_HTTP_PORT: String(ports.audit),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => launcher!.once('exit', (code) => r(code)));
    for (const stream of [launcher.stdout!, launcher.stderr!])
      stream.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));

    const deadline = Date.now() + 180_000;
    while (!output.includes('Press Ctrl-C to stop.')) {
      if (launcher.exitCode !== null || Date.now() > deadline)
        throw new Error(`the launcher did not come up:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }

    // the printed login works, and so does the API behind it
    const password = /admin@lattice\.local \/ (\S+)/.exec(output)?.[1];
    expect(password).toBeDefined();
    const gateway = `http://127.0.0.1:${ports.gateway}`;
    const login = await fetch(`${gateway}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'platform', email: 'admin@lattice.local', password }),
    });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const auth = { authorization: `Bearer ${accessToken}` };
    const created = await fetch(`${gateway}/v1/tenants`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ slug: 'acme', name: 'Acme Corp', plan: 'professional' }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const read = await fetch(`${gateway}/v1/tenants/${id}`, { headers: auth });
    expect(await read.json()).toMatchObject({ id, slug: 'acme', status: 'active' });

    launcher.kill('SIGTERM');
    expect(await exited).toBe(0);
    const stillAnswering = [];
    for (const [name, port] of Object.entries(ports))
      if (await answers('127.0.0.1', port)) stillAnswering.push(name);
    expect(stillAnswering).toEqual([]);
  });
});
