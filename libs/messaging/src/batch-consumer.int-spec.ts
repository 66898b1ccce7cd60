import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import pino from 'pino';
import { AuditEvents, type AuditEvent } from '@lattice/contracts';
import { eventually, testNamespace, testNatsUrl } from '@lattice/testing';
import { ensureAuditStream } from './audit-recorder';
import { DurableBatchConsumer } from './batch-consumer';
import { JetStreamPublisher } from './jetstream';
import { SubjectNamespace } from './namespace';
import { connectNats } from './nats-connection';

jest.setTimeout(60_000);

const logger = pino({ level: 'silent' });
const tenantId = randomUUID();

function event(n: number): AuditEvent {
  return AuditEvents.message.parse({
    id: randomUUID(),
    tenantId,
    occurredAt: new Date().toISOString(),
    actor: { type: 'service', id: 'batch-test', roles: [] },
    action: 'test.happened',
    resource: { type: 'Thing', id: `t-${n}` },
    outcome: 'success',
    metadata: { n },
  });
}

/** Batched consumption from the real JetStream. */
describe(DurableBatchConsumer.name, () => {
  let nc: NatsConnection;
  let ns: SubjectNamespace;
  let publisher: JetStreamPublisher;
  const consumers: DurableBatchConsumer<typeof AuditEvents>[] = [];

  beforeEach(async () => {
    ns = new SubjectNamespace(testNamespace());
    nc = await connectNats(testNatsUrl(), 'batch-consumer-test');
    await ensureAuditStream(nc, ns);
    publisher = new JetStreamPublisher(nc, ns);
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop()));
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(ns.stream(AuditEvents.stream.name)).catch(() => undefined);
    await nc.close();
  });

  const publish = async (events: AuditEvent[]) => {
    for (let i = 0; i < events.length; i += 200) {
      await Promise.all(
        events.slice(i, i + 200).map((e) => publisher.publish(AuditEvents, e, e.id, e.tenantId)),
      );
    }
  };
  const start = async (
    handleBatch: (events: AuditEvent[]) => Promise<void>,
    options: { batch: number; inFlight: number },
  ) => {
    const consumer = new DurableBatchConsumer(nc, ns, {
      contract: AuditEvents,
      durable: 'batch-test',
      logger,
      // longer than any test waits: a message comes again only where it was handed back
      ackWaitMs: 600_000,
      ...options,
      handleBatch,
    });
    consumers.push(consumer);
    await consumer.start();
    return consumer;
  };

  it('hands every message over once, in batches no larger than asked, never more at once than allowed', async () => {
    const sent = Array.from({ length: 1_000 }, (_, i) => event(i));
    await publish(sent);
    const seen: string[] = [];
    const sizes: number[] = [];
    let busy = 0;
    let mostBusy = 0;
    await start(
      async (events) => {
        busy++;
        mostBusy = Math.max(mostBusy, busy);
        sizes.push(events.length);
        await new Promise((r) => setTimeout(r, 5));
        seen.push(...events.map((e) => e.id));
        busy--;
      },
      { batch: 64, inFlight: 3 },
    );
    await eventually(() => expect(seen).toHaveLength(sent.length), { timeoutMs: 30_000 });
    expect(new Set(seen)).toEqual(new Set(sent.map((e) => e.id)));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(64);
    expect(mostBusy).toBeLessThanOrEqual(3);
    // a backlog is taken in full batches, not a message at a time
    expect(sizes.filter((n) => n === 64).length).toBeGreaterThan(sent.length / 64 / 2);
  });

  it('hands a failed batch back, and its messages come again until they are handled', async () => {
    const sent = Array.from({ length: 50 }, (_, i) => event(i));
    await publish(sent);
    const handled = new Set<string>();
    let failures = 0;
    await start(
      async (events) => {
        if (failures < 2) {
          failures++;
          throw new Error('storage unavailable');
        }
        for (const e of events) handled.add(e.id);
      },
      { batch: 100, inFlight: 2 },
    );
    await eventually(() => expect(handled.size).toBe(sent.length), { timeoutMs: 30_000 });
    expect(failures).toBe(2);
  });

  it('terminates a message outside its contract and hands the rest of its batch over', async () => {
    const good = [event(1), event(2)];
    await publish(good);
    await nc
      .jetstream()
      .publish(
        ns.subject(`audit.v1.events.${tenantId}`),
        new TextEncoder().encode('{"not":"an event"}'),
      );
    await publish([event(3)]);
    const seen: string[] = [];
    await start(
      async (events) => {
        seen.push(...events.map((e) => e.id));
      },
      { batch: 10, inFlight: 1 },
    );
    await eventually(() => expect(seen).toHaveLength(3), { timeoutMs: 20_000 });
    const jsm = await nc.jetstreamManager();
    await eventually(
      async () => {
        const info = await jsm.consumers.info(
          ns.stream(AuditEvents.stream.name),
          ns.durable('batch-test'),
        );
        // nothing left waiting for an ack or a redelivery: the bad one was terminated, not parked
        expect(info.num_ack_pending).toBe(0);
        expect(info.num_pending).toBe(0);
      },
      { timeoutMs: 20_000 },
    );
  });

  it('on stop, finishes the batches in hand and gives back what it read but did not hand over', async () => {
    const sent = Array.from({ length: 400 }, (_, i) => event(i));
    await publish(sent);
    const handled = new Set<string>();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inHand!: (size: number) => void;
    const firstBatch = new Promise<number>((r) => (inHand = r));
    const first = await start(
      async (events) => {
        inHand(events.length);
        await gate;
        for (const e of events) handled.add(e.id);
      },
      { batch: 50, inFlight: 1 },
    );
    // one batch in hand (delivered is not yet handed over), the rest read and waiting behind
    // it: every message delivered, none still on its way when the consumer stops
    const inHandSize = await firstBatch;
    await eventually(
      async () => {
        const jsm = await nc.jetstreamManager();
        const info = await jsm.consumers.info(
          ns.stream(AuditEvents.stream.name),
          ns.durable('batch-test'),
        );
        expect(info.num_ack_pending).toBe(sent.length);
      },
      { timeoutMs: 20_000 },
    );
    const stopping = first.stop();
    release();
    await stopping;
    // the batch in hand was finished, and nothing more was handed over after the stop
    expect(inHandSize).toBeGreaterThan(0);
    expect(handled.size).toBe(inHandSize);
    // a successor gets the rest now: nothing waits for the ack wait to pass
    await start(
      async (events) => {
        for (const e of events) handled.add(e.id);
      },
      { batch: 50, inFlight: 1 },
    );
    await eventually(() => expect(handled.size).toBe(sent.length), { timeoutMs: 20_000 });
  });
});
