import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort } from '@lattice/local-infra';
import { testContextEnv } from './context-keys';
import { createTestDatabase } from './database';
import {
  TEST_APP_PASSWORD,
  TEST_INTERNAL_SECRET,
  testNatsUrl,
  testPostgresUrl,
} from './environment';
import { eventually } from './eventually';

const ROOT = resolve(__dirname, '../../..');

export interface BuiltService {
  port: number;
  stop(): Promise<void>;
}

/**
 * Another service of the platform, run as the real process from the build, for tests of a
 * service that calls it: apps never import each other, not even in tests. It signs with its own
 * test context key (`testContextKey`). Migrates its schema,
 * and resolves once its `/readyz` answers 200.
 */
export async function startBuiltService(
  app: string,
  portVariable: string,
  env: Record<string, string>,
): Promise<BuiltService> {
  const main = resolve(ROOT, `dist/apps/${app}/src/main.js`);
  if (!existsSync(main)) throw new Error(`${main} is missing: run "npm run build" first`);
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [main, '--migrate'], {
    // its own context key, whatever the caller's environment holds
    env: { ...process.env, ...env, ...testContextEnv(app), [portVariable]: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) =>
    child.exitCode !== null ? r() : child.once('exit', () => r()),
  );

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    await eventually(
      async () => {
        if (child.exitCode !== null)
          throw new Error(`${app} exited (${child.exitCode}): ${output}`);
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        if (res.status !== 200) throw new Error(`${app} not ready: ${await res.text()}`);
      },
      { timeoutMs: 60_000 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, stop };
}

/** Services of the platform from the build, sharing a database of their own for one test file. */
export interface BuiltServices {
  /** What they were started with: the database, NATS, the namespace, the secrets, silent logs. */
  env: Record<string, string>;
  /** Starts one more from the build with the same environment and `extra`; stopped with the rest. */
  add(app: string, extra?: Record<string, string>): Promise<BuiltService>;
  /** Stops them, the last started first, and drops their database. */
  stop(): Promise<void>;
}

/** Starts `apps` from the build, one after the other, on a fresh database in `namespace`. */
export async function startBuiltServices(
  namespace: string,
  apps: string[],
): Promise<BuiltServices> {
  const database = await createTestDatabase(testPostgresUrl());
  const env = {
    NATS_URL: testNatsUrl(),
    LATTICE_NAMESPACE: namespace,
    LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
    DATABASE_URL: database.url,
    DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
    LOG_LEVEL: 'silent',
  };
  const running: BuiltService[] = [];
  const add = async (app: string, extra: Record<string, string> = {}) => {
    const port = `${app.toUpperCase().replace(/-/g, '_')}_HTTP_PORT`;
    const service = await startBuiltService(app, port, { ...env, ...extra });
    running.push(service);
    return service;
  };
  const stop = async () => {
    for (const service of running.splice(0).reverse()) await service.stop();
    await database.drop();
  };
  try {
    for (const app of apps) await add(app);
  } catch (error) {
    await stop();
    throw error;
  }
  return { env, add, stop };
}
