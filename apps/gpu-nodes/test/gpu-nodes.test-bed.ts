import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { type NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import { loadConfig } from '@lattice/config';
import {
  AuditStream,
  GpuAgentHeartbeat,
  GpuLeaseEvents,
  UsageStream,
  type AuditEvent,
  type GpuLeaseChanged,
  type GpuNodeHeartbeat,
  type GpuReading,
  type Plan,
  type UsageRecorded,
} from '@lattice/contracts';
import { createLogger } from '@lattice/logging';
import { EventBus, RpcClient, SubjectNamespace, connectNats } from '@lattice/messaging';
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
import { createGpuNodesApp } from '../src/gpu-nodes.app';
import { gpuNodesConfigSpec, type GpuNodesConfig } from '../src/gpu-nodes.config';

export interface GpuNodesTestBed {
  app: INestApplication;
  config: GpuNodesConfig;
  rpc: RpcClient;
  nats: NatsConnection;
  ns: SubjectNamespace;
  /** Connected as the database owner, for looking under the service's feet. */
  ownerDb: DataSource;
  /** Connected as the service's runtime role, the one row-level security binds. */
  runtimeDb: DataSource;
  /** A tenant made by the real tenants service. */
  newTenant(plan?: Plan): Promise<string>;
  /** Another replica on the same database and namespace. */
  startReplica(): Promise<INestApplication>;
  /** Publishes a heartbeat as an agent does. */
  beat(heartbeat: GpuNodeHeartbeat): Promise<void>;
  /** Every lease event heard since the bed started. */
  leaseEvents: GpuLeaseChanged[];
  /** Every usage report in USAGE so far. */
  usageReports(): Promise<UsageRecorded[]>;
  auditEvents(): Promise<AuditEvent[]>;
  close(): Promise<void>;
}

export const platformOperator = (): RequestContext => ({
  tenantId: null,
  actor: { type: 'user', id: 'test-operator', roles: ['platform-operator'] },
  requestId: randomUUID(),
});

export const platformAdmin = testPlatformAdmin;

export const tenantMember = (
  tenantId: string,
  roles: string[] = ['tenant-admin'],
  id = `user-of-${tenantId}`,
): RequestContext => ({
  tenantId,
  actor: { type: 'user', id, roles },
  requestId: randomUUID(),
});

/** An inference worker or the operator: a service. */
export const service = (): RequestContext => serviceContext('test-inference-worker');

export const V100_32GB = 'Tesla V100-SXM2-32GB';
export const V100_16GB = 'Tesla V100-PCIE-16GB';

/** One V100 reading as the agent sends it: 32480 MiB total (16160 for the 16 GB card). */
export function reading(
  uuid: string,
  index: number,
  overrides: Partial<GpuReading> = {},
): GpuReading {
  const totalMiB = overrides.totalMiB ?? 32_480;
  const usedMiB = overrides.usedMiB ?? 0;
  const reservedMiB = overrides.reservedMiB ?? 0;
  return {
    uuid,
    index,
    model: totalMiB === 16_160 ? V100_16GB : V100_32GB,
    pciBusId: `00000000:${(index + 0x15).toString(16).toUpperCase()}:00.0`,
    totalMiB,
    usedMiB,
    reservedMiB,
    freeMiB: totalMiB - usedMiB - reservedMiB,
    utilizationPercent: 20,
    temperatureC: 45,
    slowdownTemperatureC: 87,
    powerWatts: 60,
    lastXid: 0,
    eccUncorrectable: 0,
    remappedRowsUncorrectable: 0,
    rowRemapFailed: false,
    lost: false,
    ...overrides,
  };
}

export function heartbeat(
  node: string,
  gpus: GpuReading[],
  overrides: Partial<GpuNodeHeartbeat> = {},
): GpuNodeHeartbeat {
  return {
    node,
    kubeNode: node,
    source: 'dcgm-exporter',
    driverVersion: '535.183.01',
    sampledAt: new Date().toISOString(),
    intervalMs: 1_000,
    gpus,
    sourceError: null,
    ...overrides,
  };
}

/**
 * A running GPU-node service on a fresh database and namespace of this test file's own, with
 * the real tenants service (from the build) beside it for quotas and usage.
 */
export async function startGpuNodesTestBed(
  options: { env?: Record<string, string>; clock?: Clock; sweep?: boolean } = {},
): Promise<GpuNodesTestBed> {
  const database = await createTestDatabase(testPostgresUrl());
  const common = {
    NATS_URL: testNatsUrl(),
    LATTICE_NAMESPACE: testNamespace(),
    LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
    DATABASE_URL: database.url,
    DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
    LOG_LEVEL: process.env.GPU_TEST_LOG ?? 'silent',
  };
  const config = loadConfig(gpuNodesConfigSpec, {
    ...common,
    GPU_NODES_HTTP_PORT: '0',
    ...testContextEnv('gpu-nodes'),
    ...options.env,
  });
  const logger = createLogger('gpu-nodes-test', config.LOG_LEVEL);
  const tenants = await startBuiltService('tenants', 'TENANTS_HTTP_PORT', common);
  const start = () =>
    createGpuNodesApp(config, logger, {
      migrate: true,
      clock: options.clock,
      sweep: options.sweep,
    });
  const app = await start();
  const replicas: INestApplication[] = [];
  const ns = new SubjectNamespace(config.LATTICE_NAMESPACE);
  const nats = await connectNats(config.NATS_URL, 'gpu-nodes-test-caller');
  const rpc = new RpcClient(nats, testGatewaySigner(), ns);
  const bus = new EventBus(nats, ns, logger);
  const leaseEvents: GpuLeaseChanged[] = [];
  const listening = bus.subscribe(GpuLeaseEvents, (event) => {
    leaseEvents.push(event);
  });
  await nats.flush();
  const { ownerDb, runtimeDb } = await openServiceDatabases(database.url, 'lattice_gpu');

  return {
    app,
    config,
    rpc,
    nats,
    ns,
    ownerDb,
    runtimeDb,
    leaseEvents,
    newTenant: (plan) => createTestTenant(rpc, plan),
    startReplica: async () => {
      const replica = await start();
      replicas.push(replica);
      return replica;
    },
    beat: async (hb) => {
      bus.publish(GpuAgentHeartbeat, hb);
      await nats.flush();
    },
    usageReports: () => streamContents<UsageRecorded>(nats, ns.stream(UsageStream.name)),
    auditEvents: () => streamContents<AuditEvent>(nats, ns.stream(AuditStream.name)),
    close: async () => {
      listening.unsubscribe();
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
