import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NatsConnection } from 'nats';
import { AuditStream, PLATFORM_TENANT_ID } from '@lattice/contracts';
import { createLogger } from '@lattice/logging';
import {
  AuditRecorder,
  SubjectNamespace,
  connectNats,
  ensureAuditStream,
} from '@lattice/messaging';
import { testGatewaySigner, testNamespace, testNatsUrl } from '@lattice/testing';
import { HealthRegistry } from './health';
import { MetricsRegistry } from './metrics';
import { RuntimeModule } from './runtime.module';

describe(RuntimeModule.name, () => {
  const namespace = testNamespace();
  const ns = new SubjectNamespace(namespace);
  let observer: NatsConnection;

  beforeAll(async () => {
    observer = await connectNats(testNatsUrl(), 'runtime-test-observer');
  });
  afterAll(async () => {
    await observer
      ?.jetstreamManager()
      .then((jsm) => jsm.streams.delete(ns.stream(AuditStream.name)))
      .catch(() => undefined);
    await observer?.drain();
  });

  async function startService(options: { auditRecorder?: boolean }) {
    const nats = await connectNats(testNatsUrl(), 'runtime-test');
    @Module({
      imports: [
        RuntimeModule.forRoot({
          service: 'runtime-test',
          nats,
          logger: createLogger('runtime-test', 'silent'),
          namespace,
          signer: testGatewaySigner(),
          ...options,
        }),
      ],
    })
    class ServiceModule {}
    const app = await NestFactory.createApplicationContext(ServiceModule, { logger: false });
    return { app, nats };
  }

  it('publishes the audit events it still holds when the service stops, before NATS drains', async () => {
    const { app, nats } = await startService({ auditRecorder: true });
    const recorder = app.get(AuditRecorder);
    // no AUDIT stream yet: the event waits in the recorder, to be retried
    const id = recorder.record({
      tenantId: PLATFORM_TENANT_ID,
      actor: { type: 'service', id: 'runtime-test', roles: [] },
      action: 'runtime.stop',
      resource: { type: 'service' },
      outcome: 'success',
    });
    expect(id).toBeDefined();
    await ensureAuditStream(observer, ns);

    await app.close();

    expect(nats.isClosed()).toBe(true);
    const jsm = await observer.jetstreamManager();
    const stored = await jsm.streams.getMessage(ns.stream(AuditStream.name), { seq: 1 });
    expect(stored.json<{ id: string }>().id).toBe(id);
  });

  it('gives a service that records no audit events no recorder, and still drains NATS', async () => {
    const { app, nats } = await startService({});
    expect(() => app.get(AuditRecorder)).toThrow();
    await app.close();
    expect(nats.isClosed()).toBe(true);
  });

  it('exports each readiness check as a gauge, so an alert names the dependency that fails', async () => {
    const { app } = await startService({});
    const health = app.get(HealthRegistry);
    let databaseUp = false;
    health.register('database', async () => {
      if (!databaseUp) throw new Error('connection refused');
    });
    const scrape = () =>
      app.get(MetricsRegistry).registry.getSingleMetricAsString('lattice_readiness_check');

    expect(await scrape()).toContain('lattice_readiness_check{check="database"} 0');
    expect(await scrape()).toContain('lattice_readiness_check{check="nats"} 1');
    databaseUp = true;
    expect(await scrape()).toContain('lattice_readiness_check{check="database"} 1');
    await app.close();
  });
});
