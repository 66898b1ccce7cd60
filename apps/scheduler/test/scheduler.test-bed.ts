import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { type NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import { loadConfig } from '@lattice/config';
import {
  AuditStream,
  JobEventsStream,
  type AuditEvent,
  SchedulerQueuesCreate,
  type CreateQueueRequest,
  type JobChanged,
  type Plan,
  type QueueView,
} from '@lattice/contracts';
import { createLogger } from '@lattice/logging';
import { RpcClient, SubjectNamespace, connectNats } from '@lattice/messaging';
import { serviceContext, type RequestContext } from '@lattice/request-context';
import type { Clock } from '@lattice/service-runtime';
import {
  TEST_APP_PASSWORD,
  TEST_INTERNAL_SECRET,
  createTestDatabase,
  createTestTenant,
  openServiceDatabases,
  startBuiltService,
  streamContents,
  testContextEnv,
  testGatewaySigner,
  testNamespace,
  testNatsUrl,
  testPlatformAdmin,
  testPostgresUrl,
} from '@lattice/testing';
import { createSchedulerApp } from '../src/scheduler.app';
import { schedulerConfigSpec, type SchedulerConfig } from '../src/scheduler.config';
import type { Random } from '../src/dispatch/retry-backoff';

export interface SchedulerTestBed {
  app: INestApplication;
  config: SchedulerConfig;
  rpc: RpcClient;
  nats: NatsConnection;
  ns: SubjectNamespace;
  /** Connected as the database owner, for looking under the service's feet. */
  ownerDb: DataSource;
  /** Connected as the service's runtime role, the one row-level security binds. */
  runtimeDb: DataSource;
  /** A tenant made by the real tenants service. */
  newTenant(plan?: Plan): Promise<string>;
  newQueue(overrides?: Partial<CreateQueueRequest>): Promise<QueueView>;
  /** Another scheduler replica on the same database and namespace. */
  startReplica(): Promise<INestApplication>;
  /** Every job event in JOB_EVENTS so far. */
  jobEvents(): Promise<JobChanged[]>;
  /** Every audit event the scheduler (and the tenants service) published so far. */
  auditEvents(): Promise<AuditEvent[]>;
  close(): Promise<void>;
}

export const platformAdmin = testPlatformAdmin;

export const platformOperator = (): RequestContext => ({
  tenantId: null,
  actor: { type: 'user', id: 'test-operator', roles: ['platform-operator'] },
  requestId: randomUUID(),
});

export const tenantMember = (
  tenantId: string,
  roles: string[] = ['tenant-admin'],
  id = `user-of-${tenantId}`,
): RequestContext => ({
  tenantId,
  actor: { type: 'user', id, roles },
  requestId: randomUUID(),
});

/** A worker process speaks to the scheduler as a service. */
export const worker = (): RequestContext => serviceContext('test-worker');

/**
 * A running scheduler on a fresh database and namespace of this test file's own, with the real
 * tenants service (from the build) beside it for plans.
 */
export async function startSchedulerTestBed(
  options: { env?: Record<string, string>; clock?: Clock; random?: Random } = {},
): Promise<SchedulerTestBed> {
  const database = await createTestDatabase(testPostgresUrl());
  const common = {
    NATS_URL: testNatsUrl(),
    LATTICE_NAMESPACE: testNamespace(),
    LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
    ...testContextEnv('scheduler'),
    DATABASE_URL: database.url,
    DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
    LOG_LEVEL: 'silent',
  };
  const config = loadConfig(schedulerConfigSpec, {
    ...common,
    SCHEDULER_HTTP_PORT: '0',
    // the tests sweep leases themselves, with their own clock
    SCHEDULER_LEASE_SWEEP_SECONDS: '3600',
    ...options.env,
  });
  const logger = createLogger('scheduler-test', config.LOG_LEVEL);
  const tenants = await startBuiltService('tenants', 'TENANTS_HTTP_PORT', common);
  const start = () =>
    createSchedulerApp(config, logger, {
      migrate: true,
      clock: options.clock,
      random: options.random,
    });
  const app = await start();
  const replicas: INestApplication[] = [];
  const ns = new SubjectNamespace(config.LATTICE_NAMESPACE);
  const nats = await connectNats(config.NATS_URL, 'scheduler-test-caller');
  const rpc = new RpcClient(nats, testGatewaySigner(), ns);
  const { ownerDb, runtimeDb } = await openServiceDatabases(database.url, 'lattice_scheduler');

  return {
    app,
    config,
    rpc,
    nats,
    ns,
    ownerDb,
    runtimeDb,
    newTenant: (plan) => createTestTenant(rpc, plan),
    newQueue: (overrides = {}) =>
      rpc.request(
        SchedulerQueuesCreate,
        {
          name: `q-${randomUUID().slice(0, 8)}`,
          workerPool: 'test-workers',
          maxTenantShare: 1,
          defaultTimeoutSeconds: 60,
          defaultMaxAttempts: 3,
          ...overrides,
        },
        platformAdmin(),
      ),
    startReplica: async () => {
      const replica = await start();
      replicas.push(replica);
      return replica;
    },
    jobEvents: () => streamContents<JobChanged>(nats, ns.stream(JobEventsStream.name)),
    auditEvents: () => streamContents<AuditEvent>(nats, ns.stream(AuditStream.name)),
    close: async () => {
      for (const replica of replicas) await replica.close();
      await app.close();
      await tenants.stop();
      await nats.drain().catch(() => undefined);
      await ownerDb.destroy();
      await runtimeDb.destroy();
      await database.drop();
    },
  };
}
