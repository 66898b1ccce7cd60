import type { NatsConnection } from 'nats';
import pino from 'pino';
import { z } from 'zod';
import { event } from '@lattice/contracts';
import { eventually, testNamespace, testNatsUrl } from '@lattice/testing';
import { EventBus } from './event-bus';
import { SubjectNamespace } from './namespace';
import { connectNats } from './nats-connection';

const ThingChanged = event(
  'things.v1.events',
  z.object({ id: z.string(), type: z.enum(['created', 'deleted']) }),
  { suffixed: true },
);

/** Typed events over the real NATS server, from one connection to another. */
describe(EventBus.name, () => {
  const ns = new SubjectNamespace(testNamespace());
  const silent = pino({ level: 'silent' });
  let publisherNc: NatsConnection;
  let listenerNc: NatsConnection;

  beforeAll(async () => {
    publisherNc = await connectNats(testNatsUrl(), 'event-bus-publisher');
    listenerNc = await connectNats(testNatsUrl(), 'event-bus-listener');
  });
  afterAll(async () => {
    await publisherNc?.close();
    await listenerNc?.close();
  });

  it('hears every event of a suffixed contract and drops what breaks it, without going deaf', async () => {
    const heard: unknown[] = [];
    const sub = new EventBus(listenerNc, ns, silent).subscribe(ThingChanged, (e) => {
      heard.push(e);
    });
    await listenerNc.flush();
    const publisher = new EventBus(publisherNc, ns, silent);

    publisher.publish(ThingChanged, { id: 'a', type: 'created' }, 'created');
    // what an out-of-date or hostile publisher could put on the subject
    publisherNc.publish(ns.subject('things.v1.events.deleted'), new TextEncoder().encode('{"id":'));
    publisherNc.publish(
      ns.subject('things.v1.events.deleted'),
      new TextEncoder().encode(JSON.stringify({ id: 'b', type: 'exploded' })),
    );
    publisher.publish(ThingChanged, { id: 'c', type: 'deleted' }, 'deleted');

    await eventually(() =>
      expect(heard).toEqual([
        { id: 'a', type: 'created' },
        { id: 'c', type: 'deleted' },
      ]),
    );
    sub.unsubscribe();
  });

  it('keeps installations apart: an event in another namespace is not heard', async () => {
    const heard: unknown[] = [];
    const sub = new EventBus(listenerNc, ns, silent).subscribe(ThingChanged, (e) => {
      heard.push(e);
    });
    await listenerNc.flush();
    const elsewhere = new EventBus(publisherNc, new SubjectNamespace(testNamespace()), silent);
    elsewhere.publish(ThingChanged, { id: 'x', type: 'created' }, 'created');
    new EventBus(publisherNc, ns, silent).publish(
      ThingChanged,
      { id: 'y', type: 'created' },
      'created',
    );

    await eventually(() => expect(heard).toEqual([{ id: 'y', type: 'created' }]));
    sub.unsubscribe();
  });
});
