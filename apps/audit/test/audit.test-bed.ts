import type { INestApplication } from '@nestjs/common';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { loadConfig } from '@lattice/config';
import { KeyRing } from '@lattice/secrets';
import {
  AuditStream,
  AuditEvents,
  type AuditEvent,
  type AuditEventInput,
} from '@lattice/contracts';
import { createLogger } from '@lattice/logging';
import { JetStreamPublisher, RpcClient, SubjectNamespace, connectNats } from '@lattice/messaging';
import { type RequestContext } from '@lattice/request-context';
import type { Clock } from '@lattice/service-runtime';
import {
  TEST_APP_PASSWORD,
  TEST_INTERNAL_SECRET,
  createTestDatabase,
  eventually,
  openServiceDatabases,
  testContextEnv,
  testGatewaySigner,
  testNamespace,
  testNatsUrl,
  testPlatformAdmin,
  testPostgresUrl,
} from '@lattice/testing';
import { DataSource } from 'typeorm';
import { createAuditApp } from '../src/audit.app';
import { auditConfigSpec, type AuditConfig } from '../src/audit.config';

export interface AuditTestBed {
  app: INestApplication;
  config: AuditConfig;
  env: Record<string, string>;
  rpc: RpcClient;
  nats: NatsConnection;
  ns: SubjectNamespace;
  publisher: JetStreamPublisher;
  /** Connected as the database owner, for looking (and tampering) under the service's feet. */
  ownerDb: DataSource;
  /** Connected as the service's runtime role, the one row-level security binds. */
  runtimeDb: DataSource;
  publish(event: AuditEvent, natsMsgId?: string): Promise<void>;
  /** Waits until the durable consumer has handled everything in the stream so far. */
  caughtUp(): Promise<void>;
  /** Rows of a tenant's trail, as the owner sees them. */
  count(tenantId: string): Promise<number>;
  stopApp(): Promise<void>;
  startApp(): Promise<void>;
  close(): Promise<void>;
}

export const checkpointKeyPem = (): string =>
  generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

export const platformAdmin = testPlatformAdmin;

export const tenantMember = (tenantId: string, roles: string[] = ['auditor']): RequestContext => ({
  tenantId,
  actor: { type: 'user', id: `user-of-${tenantId}`, roles },
  requestId: randomUUID(),
});

let sequence = 0;

/** A valid event for a tenant; the counter in the action keeps their order visible. */
export function auditEvent(tenantId: string, overrides: Partial<AuditEventInput> = {}): AuditEvent {
  sequence += 1;
  return AuditEvents.message.parse({
    id: randomUUID(),
    tenantId,
    occurredAt: new Date().toISOString(),
    actor: { type: 'service', id: 'test-service', roles: [] },
    action: 'test.happened',
    resource: { type: 'Thing', id: `thing-${sequence}` },
    outcome: 'success',
    metadata: { n: sequence },
    ...overrides,
  });
}

export function auditTestEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NATS_URL: testNatsUrl(),
    LATTICE_NAMESPACE: testNamespace(),
    LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
    ...testContextEnv('audit'),
    DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
    AUDIT_HTTP_PORT: '0',
    AUDIT_CHECKPOINT_KEY: checkpointKeyPem(),
    LATTICE_KEK: KeyRing.generateSpec('audit-test'),
    AUDIT_GDPR_WAIT_MS: '500',
    // the bed answers for auth with a responder; the RAG service is not part of it
    AUDIT_GDPR_SERVICES: 'audit,auth',
    LOG_LEVEL: process.env.AUDIT_TEST_LOG_LEVEL ?? 'silent',
    ...overrides,
  };
}

/** A running audit service on a fresh database and namespace of this test file's own. */
export async function startAuditTestBed(
  options: { env?: Record<string, string>; clock?: Clock } = {},
): Promise<AuditTestBed> {
  const database = await createTestDatabase(testPostgresUrl());
  const env = auditTestEnv({ DATABASE_URL: database.url, ...options.env });
  const config = loadConfig(auditConfigSpec, env);
  const logger = createLogger('audit-test', config.LOG_LEVEL);
  let app = await createAuditApp(config, logger, { migrate: true, clock: options.clock });
  const ns = new SubjectNamespace(config.LATTICE_NAMESPACE);
  const nats = await connectNats(config.NATS_URL, 'audit-test-caller');
  const rpc = new RpcClient(nats, testGatewaySigner(), ns);
  const publisher = new JetStreamPublisher(nats, ns);
  const { ownerDb, runtimeDb } = await openServiceDatabases(database.url, 'lattice_audit');
  let running = true;
  return {
    get app() {
      return app;
    },
    config,
    env,
    rpc,
    nats,
    ns,
    publisher,
    ownerDb,
    runtimeDb,
    publish: (event, natsMsgId = event.id) =>
      publisher.publish(AuditEvents, event, natsMsgId, event.tenantId),
    caughtUp: async () => {
      const jsm = await nats.jetstreamManager();
      const stream = ns.stream(AuditStream.name);
      const last = (await jsm.streams.info(stream)).state.last_seq;
      await eventually(
        async () => {
          const info = await jsm.consumers.info(stream, ns.durable('audit-events'));
          expect(info.ack_floor.stream_seq).toBeGreaterThanOrEqual(last);
          expect(info.num_ack_pending).toBe(0);
        },
        { timeoutMs: 20_000 },
      );
    },
    count: async (tenantId) => {
      const [{ n }] = await ownerDb.query(
        `SELECT count(*)::int AS n FROM audit.events WHERE tenant_id = $1`,
        [tenantId],
      );
      return n as number;
    },
    stopApp: async () => {
      if (running) await app.close();
      running = false;
    },
    startApp: async () => {
      app = await createAuditApp(config, logger, { clock: options.clock });
      running = true;
    },
    close: async () => {
      if (running) await app.close();
      await nats.drain().catch(() => undefined);
      await ownerDb.destroy();
      await runtimeDb.destroy();
      await database.drop();
    },
  };
}
