import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { spawnSync } from 'node:child_process';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig } from '@lattice/config';
import { type Plan } from '@lattice/contracts';
import { createLogger } from '@lattice/logging';
import { RpcClient, SubjectNamespace, connectNats } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import type { NatsConnection } from 'nats';
import {
  TEST_APP_PASSWORD,
  TEST_INTERNAL_SECRET,
  createTestDatabase,
  createTestTenant,
  openServiceDatabases,
  startBuiltService,
  testContextEnv,
  testGatewaySigner,
  testNamespace,
  testNatsUrl,
  testPlatformAdmin,
  testPostgresUrl,
} from '@lattice/testing';
import { createRagApp, type RagAppOptions } from '../src/rag.app';
import { ragConfigSpec, type RagConfig } from '../src/rag.config';

export interface RagTestBed {
  app: INestApplication;
  config: RagConfig;
  rpc: RpcClient;
  nats: NatsConnection;
  /** Connected as the database owner, for looking under the service's feet. */
  ownerDb: DataSource;
  /** Connected as the service's runtime role, the one row-level security binds. */
  runtimeDb: DataSource;
  /** A tenant made by the real tenants service (which holds its storage quota). */
  newTenant(plan?: Plan): Promise<string>;
  close(): Promise<void>;
}

export const tenantMember = (
  tenantId: string,
  roles: string[] = ['tenant-admin'],
  id = `user-of-${tenantId}`,
): RequestContext => ({
  tenantId,
  actor: { type: 'user', id, roles },
  requestId: randomUUID(),
});

export const platformAdmin = testPlatformAdmin;

/** Whether the server the tests use offers pgvector (tools/pgvector/ensure-pgvector.sh). */
export async function pgvectorAvailable(): Promise<boolean> {
  const client = new Client({ connectionString: testPostgresUrl() });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT 1 FROM pg_available_extensions WHERE name = 'vector'`,
    );
    return rows.length > 0;
  } finally {
    await client.end();
  }
}

/**
 * A running RAG service on a fresh database of this test file's own.
 * `vector: 'off'` keeps the database off pgvector (the exact-scan fallback
 * that embedded PostgreSQL gets), as `lattice.rag_vector_extension = 'off'` does in production.
 */
export async function startRagTestBed(
  options: {
    vector?: 'auto' | 'off';
    app?: RagAppOptions;
    env?: Record<string, string>;
    /** Start the scheduler (from the build) too, with these variables; ingest runs as its jobs. */
    scheduler?: Record<string, string>;
  } = {},
): Promise<RagTestBed> {
  const database = await createTestDatabase(testPostgresUrl());
  if (options.vector === 'off') {
    const admin = new Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(
      `ALTER DATABASE ${new URL(database.url).pathname.slice(1)} SET lattice.rag_vector_extension = 'off'`,
    );
    await admin.end();
  }
  const common = {
    NATS_URL: testNatsUrl(),
    LATTICE_NAMESPACE: testNamespace(),
    LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
    DATABASE_URL: database.url,
    DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
    LOG_LEVEL: process.env.RAG_TEST_LOG ?? 'silent',
  };
  const config = loadConfig(ragConfigSpec, {
    ...common,
    RAG_HTTP_PORT: '0',
    // the ingest worker (and its embedding model) only where a test asks for it
    RAG_INGEST_WORKER: options.scheduler ? 'true' : 'false',
    ...testContextEnv('rag'),
    ...options.env,
  });
  const logger = createLogger('rag-test', config.LOG_LEVEL);
  const tenants = await startBuiltService('tenants', 'TENANTS_HTTP_PORT', common);
  const scheduler = options.scheduler
    ? await startBuiltService('scheduler', 'SCHEDULER_HTTP_PORT', {
        ...common,
        ...options.scheduler,
      }).catch(async (error: unknown) => {
        await tenants.stop();
        throw error;
      })
    : undefined;
  const app = await createRagApp(config, logger, { migrate: true, ...options.app });
  const ns = new SubjectNamespace(config.LATTICE_NAMESPACE);
  const nats = await connectNats(config.NATS_URL, 'rag-test-caller');
  // a machine under load may take a while to create an index; the calls are not timed here
  const rpc = new RpcClient(nats, testGatewaySigner(), ns, 15_000);
  const { ownerDb, runtimeDb } = await openServiceDatabases(database.url, 'lattice_rag');
  return {
    app,
    config,
    rpc,
    nats,
    ownerDb,
    runtimeDb,
    newTenant: (plan) => createTestTenant(rpc, plan),
    close: async () => {
      await app.close();
      await scheduler?.stop();
      await tenants.stop();
      await nats.drain().catch(() => undefined);
      await ownerDb.destroy();
      await runtimeDb.destroy();
      await database.drop();
    },
  };
}

/**
 * Whether the server offers pgvector, asked synchronously so a test file can choose between
 * `describe` and `describe.skip` (and so report the pgvector path skipped, not passed).
 */
export function pgvectorAvailableSync(): boolean {
  const script = `
    const { Client } = require('pg');
    const c = new Client({ connectionString: process.argv[1] });
    c.connect()
      .then(() => c.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"))
      .then((r) => { process.stdout.write(r.rows.length ? 'yes' : 'no'); return c.end(); })
      .catch(() => process.stdout.write('no'));`;
  const url = testPostgresUrl();
  const out = spawnSync(process.execPath, ['-e', script, url], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return out.stdout === 'yes';
}

/** A deterministic pseudo-random unit vector. */
export function unitVector(dimension: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 0xffffffff) * 2 - 1;
  };
  const v = Array.from({ length: dimension }, next);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}
