import type { INestApplication } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { loadConfig } from '@lattice/config';
import { createLogger } from '@lattice/logging';
import { RpcClient, SubjectNamespace, connectNats } from '@lattice/messaging';
import { type RequestContext } from '@lattice/request-context';
import {
  TEST_APP_PASSWORD,
  TEST_INTERNAL_SECRET,
  createTestDatabase,
  openServiceDatabases,
  testContextEnv,
  testGatewaySigner,
  testNamespace,
  testNatsUrl,
  testPlatformAdmin,
  testPostgresUrl,
} from '@lattice/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createTenantsApp, tenantsDatabase } from '../src/tenants.app';
import { tenantsConfigSpec, type TenantsConfig } from '../src/tenants.config';
import type { Clock } from '@lattice/service-runtime';

export interface TenantsTestBed {
  app: INestApplication;
  config: TenantsConfig;
  rpc: RpcClient;
  nats: NatsConnection;
  ns: SubjectNamespace;
  /** Connected as the database owner, for looking under the service's feet. */
  ownerDb: DataSource;
  /** Connected as the service's runtime role, the one row-level security binds. */
  runtimeDb: DataSource;
  close(): Promise<void>;
}

export const platformAdmin = testPlatformAdmin;

export const tenantMember = (
  tenantId: string,
  roles: string[] = ['developer'],
): RequestContext => ({
  tenantId,
  actor: { type: 'user', id: `user-of-${tenantId}`, roles },
  requestId: randomUUID(),
});

export function tenantsTestConfig(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NATS_URL: testNatsUrl(),
    LATTICE_NAMESPACE: testNamespace(),
    LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
    ...testContextEnv('tenants'),
    DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
    TENANTS_HTTP_PORT: '0',
    LOG_LEVEL: 'silent',
    ...overrides,
  };
}

/** A running tenants service on a fresh database and namespace of this test file's own. */
export async function startTenantsTestBed(
  options: { env?: Record<string, string>; clock?: Clock } = {},
): Promise<TenantsTestBed> {
  const database = await createTestDatabase(testPostgresUrl());
  const config = loadConfig(
    tenantsConfigSpec,
    tenantsTestConfig({ DATABASE_URL: database.url, ...options.env }),
  );
  const logger = createLogger('tenants-test', config.LOG_LEVEL);
  const app = await createTenantsApp(config, logger, { migrate: true, clock: options.clock });
  const ns = new SubjectNamespace(config.LATTICE_NAMESPACE);
  const nats = await connectNats(config.NATS_URL, 'tenants-test-caller');
  const rpc = new RpcClient(nats, testGatewaySigner(), ns);
  const db = tenantsDatabase(config);
  const { ownerDb, runtimeDb } = await openServiceDatabases(database.url, 'lattice_tenants', {
    entities: db.entities,
  });
  return {
    app,
    config,
    rpc,
    nats,
    ns,
    ownerDb,
    runtimeDb,
    close: async () => {
      await app.close();
      await nats.drain().catch(() => undefined);
      await ownerDb.destroy();
      await runtimeDb.destroy();
      await database.drop();
    },
  };
}
