import type { NatsConnection } from 'nats';
import { AuditEvents } from '@lattice/contracts';
import { testNamespace, testNatsUrl } from '@lattice/testing';
import { ensureAuditStream } from './audit-recorder';
import { ensureDurableConsumer } from './jetstream';
import { SubjectNamespace } from './namespace';
import { connectNats } from './nats-connection';

/** Durable consumers on the real JetStream. */
describe(ensureDurableConsumer.name, () => {
  const ns = new SubjectNamespace(testNamespace());
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connectNats(testNatsUrl(), 'durable-consumer-test');
    await ensureAuditStream(nc, ns);
  });
  afterAll(() => nc?.close());

  it('brings an existing durable consumer’s limits up to date instead of refusing to start', async () => {
    const target = { contract: AuditEvents, durable: 'limits' };
    await ensureDurableConsumer(nc, ns, { ...target, ackWaitMs: 30_000 });
    await ensureDurableConsumer(nc, ns, { ...target, ackWaitMs: 5_000, maxAckPending: 6_000 });
    const jsm = await nc.jetstreamManager();
    const info = await jsm.consumers.info(ns.stream(AuditEvents.stream.name), ns.durable('limits'));
    expect(info.config.ack_wait).toBe(5_000 * 1_000_000);
    expect(info.config.max_ack_pending).toBe(6_000);
    // the same settings again change nothing and do not fail
    await ensureDurableConsumer(nc, ns, { ...target, ackWaitMs: 5_000, maxAckPending: 6_000 });
  });
});
