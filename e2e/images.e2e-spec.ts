import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@lattice/local-infra';
import {
  TEST_INTERNAL_SECRET,
  eventually,
  testContextEnv,
  testNamespace,
  testNatsUrl,
} from '@lattice/testing';

jest.setTimeout(180_000);

const ROOT = resolve(__dirname, '..');
const APPS = readdirSync(join(ROOT, 'apps')).filter((d) =>
  statSync(join(ROOT, 'apps', d)).isDirectory(),
);
/** The command line the Dockerfile's `app` stage runs, from the build, in the build's root. */
const STAGE = 'dist/tools/image/src/stage-app.js';
/** What the runtime stage's ENTRYPOINT runs after node, in the image's working directory. */
const ENTRYPOINT = JSON.parse(
  /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))![1],
) as string[];

const run = promisify(execFile);
const stage = (app: string, out: string) =>
  run(process.execPath, [STAGE, app, out], { cwd: ROOT, encoding: 'utf8' });

function filesUnder(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? filesUnder(join(dir, entry.name), base)
      : [join(dir, entry.name).slice(base.length + 1)],
  );
}

/**
 * What the image recipe does for each service, run here where no image can be built: stage the
 * service's modules as the `app` stage does, and run them as the runtime stage does.
 */
describe('the service images', () => {
  const out = mkdtempSync(join(tmpdir(), 'lattice-image-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it.each(APPS)(
    'stages %s: its own modules and the libraries it loads, no tests, no other app',
    async (app) => {
      const dir = join(out, app);
      const { stdout } = await stage(app, dir);
      expect(stdout).toMatch(new RegExp(`^${app}: \\d+ modules; packages `));
      const files = filesUnder(dir);
      expect(files).toContain(`dist/apps/${app}/src/main.js`);
      expect(files).toContain('dist/main.js');
      expect(
        files.filter((f) => f.startsWith('dist/apps/') && !f.startsWith(`dist/apps/${app}/`)),
      ).toEqual([]);
      expect(
        files.filter((f) => /\/test\/|libs\/(testing|kube-test-env)\/|\.spec\.js/.test(f)),
      ).toEqual([]);
      // every module comes with its source map, for stack traces that name the TypeScript
      expect(
        files.filter(
          (f) => f.endsWith('.js') && f !== 'dist/main.js' && !files.includes(`${f}.map`),
        ),
      ).toEqual([]);
    },
  );

  it('refuses to build an image for an app that does not exist, naming those that do', async () => {
    const error = (await stage('gatewya', join(out, 'none')).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(error.code).toBe(1);
    expect(error.stderr).toContain('"gatewya" is not an app');
    expect(error.stderr).toContain(APPS.join(', '));
    expect(existsSync(join(out, 'none'))).toBe(false);
  });

  describe('the gateway, run from its staged modules as the image runs it', () => {
    let gateway: ChildProcess;
    let url: string;
    let output = '';

    beforeAll(async () => {
      const dir = join(out, 'gateway-run');
      await stage('gateway', dir);
      // the image's node_modules is the production install; the packages it may load are
      // checked when staging (a development dependency fails the stage)
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      gateway = spawn(process.execPath, ENTRYPOINT.slice(1), {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'production',
          NATS_URL: testNatsUrl(),
          LATTICE_NAMESPACE: testNamespace(),
          LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
          ...testContextEnv('gateway'),
          GATEWAY_PORT: String(port),
          GATEWAY_HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000));
      gateway.stdout?.on('data', keep);
      gateway.stderr?.on('data', keep);
    });
    afterAll(async () => {
      if (gateway.exitCode !== null || gateway.signalCode !== null) return;
      gateway.kill('SIGTERM');
      await once(gateway, 'exit');
    });

    it('is alive and serves its API document', async () => {
      await eventually(
        async () => {
          if (gateway.exitCode !== null) throw new Error(`gateway exited: ${output}`);
          expect((await fetch(`${url}/livez`)).status).toBe(200);
        },
        { timeoutMs: 60_000 },
      );
      const docs = await fetch(`${url}/docs/json`);
      expect(docs.status).toBe(200);
      expect(((await docs.json()) as { openapi: string }).openapi).toMatch(/^3\./);
    });
  });
});
