import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import pino from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import { ErrorCode, UsageStream, type UsageRecorded } from '@lattice/contracts';
import { TenantScope, usageOutboxTableSql } from '@lattice/database';
import {
  createTestDatabase,
  failure,
  testNamespace,
  testNatsUrl,
  testPostgresUrl,
} from '@lattice/testing';
import { JetStreamPublisher, ensureStream } from './jetstream';
import { SubjectNamespace } from './namespace';
import { connectNats } from './nats-connection';
import { UsageOutbox } from './usage-outbox';

/**
 * A third service's usage outbox, as a service would set one up: its own schema and table from
 * `usageOutboxTableSql`, reports written in its transactions, relayed to the real USAGE stream.
 */
describe(UsageOutbox.name, () => {
  const ns = new SubjectNamespace(testNamespace());
  let nc: NatsConnection;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataSource: DataSource;
  let scope: TenantScope;
  let outbox: UsageOutbox<EntityManager>;

  const report = (tenantId: string, over: Partial<UsageRecorded> = {}): UsageRecorded => ({
    messageId: `rag-query:${randomUUID()}`,
    tenantId,
    resource: 'tokens',
    amount: 1_234,
    occurredAt: new Date().toISOString(),
    source: 'rag',
    ...over,
  });
  const waiting = async () =>
    (
      (await dataSource.query(`SELECT event_id FROM rag.usage_outbox ORDER BY id`)) as {
        event_id: string;
      }[]
    ).map((r) => r.event_id);
  /** What the USAGE stream holds for the tenant: subject, JetStream message id, report. */
  const inStream = async (tenantId: string) => {
    const jsm = await nc.jetstreamManager();
    const name = ns.stream(UsageStream.name);
    const { state } = await jsm.streams.info(name);
    const found: { subject: string; msgId: string | undefined; report: UsageRecorded }[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
      const message = await jsm.streams.getMessage(name, { seq });
      const body = message.json<UsageRecorded>();
      if (body.tenantId === tenantId)
        found.push({
          subject: message.subject,
          msgId: message.header.get('Nats-Msg-Id') || undefined,
          report: body,
        });
    }
    return found;
  };

  beforeAll(async () => {
    nc = await connectNats(testNatsUrl(), 'usage-outbox-test');
    await ensureStream(nc, ns, UsageStream);
    database = await createTestDatabase(testPostgresUrl());
    dataSource = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    await dataSource.query(`CREATE SCHEMA rag`);
    for (const sql of usageOutboxTableSql('rag')) await dataSource.query(sql);
    scope = new TenantScope(dataSource);
    outbox = new UsageOutbox<EntityManager>({
      table: { schema: 'rag' },
      inScope: (work) => scope.runForDispatch(work),
      publisher: new JetStreamPublisher(nc, ns),
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await outbox?.onApplicationShutdown();
    await dataSource?.destroy();
    await database?.drop();
    await nc?.close();
  });

  it('relays a committed report to USAGE under its own id as the message id, and never a rolled-back one', async () => {
    const tenant = randomUUID();
    const kept = report(tenant);
    const storage = report(tenant, { resource: 'storageBytes', amount: -4_096 });
    await scope.run(tenant, async (em) => {
      await outbox.record(em, kept);
      await outbox.record(em, storage);
    });
    const undone = report(tenant);
    await expect(
      scope.run(tenant, async (em) => {
        await outbox.record(em, undone);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await waiting()).toEqual([kept.messageId, storage.messageId]);

    await outbox.kick();
    expect(await waiting()).toEqual([]);
    expect(await inStream(tenant)).toEqual([
      { subject: ns.subject('usage.v1.recorded.tokens'), msgId: kept.messageId, report: kept },
      {
        subject: ns.subject('usage.v1.recorded.storageBytes'),
        msgId: storage.messageId,
        report: storage,
      },
    ]);
  });

  it('publishes a report relayed twice (a crash between publish and delete) once', async () => {
    const tenant = randomUUID();
    const once = report(tenant);
    for (let i = 0; i < 2; i++) {
      await scope.run(tenant, (em) => outbox.record(em, once));
      await outbox.kick();
    }
    expect(await waiting()).toEqual([]);
    expect((await inStream(tenant)).map((m) => m.msgId)).toEqual([once.messageId]);
  });

  it('refuses a report USAGE would refuse, in the caller transaction, storing nothing', async () => {
    const tenant = randomUUID();
    for (const bad of [
      report(tenant, { amount: -5 }), // only storage may shrink
      report(tenant, { amount: 1.5 }),
      report(tenant, { messageId: '' }),
      { ...report(tenant), extra: true } as UsageRecorded,
    ]) {
      const refused = await failure(scope.run(tenant, (em) => outbox.record(em, bad)));
      expect(refused.code).toBe(ErrorCode.ValidationFailed);
    }
    expect(await waiting()).toEqual([]);
  });

  it('takes only a plain table name', () => {
    expect(
      () =>
        new UsageOutbox<EntityManager>({
          table: { schema: 'rag"; DROP TABLE x; --' },
          inScope: (work) => scope.runForDispatch(work),
          publisher: new JetStreamPublisher(nc, ns),
          logger: pino({ level: 'silent' }),
        }),
    ).toThrow('not a plain SQL identifier');
  });
});
