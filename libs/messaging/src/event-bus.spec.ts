import {
  JSONCodec,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type SubscriptionOptions,
} from 'nats';
import pino from 'pino';
import { z } from 'zod';
import { event } from '@lattice/contracts';
import { EventBus, EventContractError } from './event-bus';
import { SubjectNamespace } from './namespace';

const KeyRevoked = event('keys.v1.events.revoked', z.object({ keyId: z.uuid() }).strict());
const ThingChanged = event(
  'things.v1.events',
  z.object({ id: z.string(), type: z.enum(['created', 'deleted']) }),
  { suffixed: true },
);

const keyId = '7d1e1c1a-9a57-4cd1-8f0e-6b0b0b0b0b0b';
const json = JSONCodec();

/** Core NATS in memory: remembers what was published and hands subscribers raw messages. */
class BusInMemory {
  readonly published: { subject: string; data: unknown; headers?: MsgHdrs }[] = [];
  readonly subscribers = new Map<string, Required<SubscriptionOptions>['callback']>();

  readonly nc = {
    publish: (subject: string, data: Uint8Array, options?: { headers?: MsgHdrs }) => {
      this.published.push({ subject, data: json.decode(data), headers: options?.headers });
    },
    subscribe: (subject: string, options: SubscriptionOptions) => {
      this.subscribers.set(subject, options.callback!);
      return { unsubscribe: () => this.subscribers.delete(subject) };
    },
  } as unknown as NatsConnection;

  /** Delivers raw bytes on a subject and lets the handlers run to completion. */
  async deliver(filter: string, subject: string, data: Uint8Array): Promise<void> {
    this.subscribers.get(filter)!(null, { subject, data } as Msg);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe(EventBus.name, () => {
  let bus: BusInMemory;
  let logged: { level: number; msg: string; subject?: string }[];
  let events: EventBus;

  beforeEach(() => {
    bus = new BusInMemory();
    logged = [];
    const logger = pino({}, { write: (line: string) => logged.push(JSON.parse(line)) });
    events = new EventBus(bus.nc, new SubjectNamespace('t1'), logger);
  });

  describe('publish', () => {
    it('sends a valid event on its subject in the namespace', () => {
      events.publish(KeyRevoked, { keyId });
      expect(bus.published).toEqual([
        expect.objectContaining({ subject: 't1.keys.v1.events.revoked', data: { keyId } }),
      ]);
    });

    it('sends a suffixed event under its suffix', () => {
      events.publish(ThingChanged, { id: 'a', type: 'created' }, 'created');
      expect(bus.published.map((p) => p.subject)).toEqual(['t1.things.v1.events.created']);
    });

    it('refuses an event that breaks its contract with a typed error, and sends nothing', () => {
      const refusal = () => events.publish(KeyRevoked, { keyId: 'not-a-uuid' });
      expect(refusal).toThrow(EventContractError);
      try {
        refusal();
      } catch (error) {
        expect(error).toMatchObject({
          subject: 'keys.v1.events.revoked',
          issues: [expect.objectContaining({ path: 'keyId' })],
        });
      }
      expect(bus.published).toEqual([]);
    });

    it('refuses fields the contract does not know when its schema is strict', () => {
      expect(() =>
        events.publish(KeyRevoked, { keyId, secret: 'x' } as unknown as { keyId: string }),
      ).toThrow(EventContractError);
      expect(bus.published).toEqual([]);
    });

    it('refuses a suffix that is not one subject token', () => {
      for (const suffix of ['a.b', '>', '*', '', 'a b'])
        expect(() => events.publish(ThingChanged, { id: 'a', type: 'created' }, suffix)).toThrow(
          EventContractError,
        );
      expect(bus.published).toEqual([]);
    });

    it('refuses a suffix on an event whose subject is fixed', () => {
      const publishWithSuffix = events.publish.bind(events) as (...args: unknown[]) => void;
      expect(() => publishWithSuffix(KeyRevoked, { keyId }, 'extra')).toThrow(EventContractError);
      expect(bus.published).toEqual([]);
    });
  });

  describe('subscribe', () => {
    it('listens on the contract filter and hands valid events to the handler', async () => {
      const heard: unknown[] = [];
      events.subscribe(ThingChanged, (e) => void heard.push(e));
      expect([...bus.subscribers.keys()]).toEqual(['t1.things.v1.events.>']);
      await bus.deliver(
        't1.things.v1.events.>',
        't1.things.v1.events.deleted',
        json.encode({ id: 'a', type: 'deleted' }),
      );
      expect(heard).toEqual([{ id: 'a', type: 'deleted' }]);
    });

    it.each([
      ['outside the schema', json.encode({ keyId: 'not-a-uuid' })],
      ['with an unknown field', json.encode({ keyId, extra: true })],
      ['not JSON at all', new TextEncoder().encode('{"keyId":')],
      ['empty', new Uint8Array()],
    ])('drops and logs an event %s, and goes on hearing the next', async (_case, data) => {
      const heard: unknown[] = [];
      events.subscribe(KeyRevoked, (e) => void heard.push(e));
      const filter = 't1.keys.v1.events.revoked';
      await bus.deliver(filter, filter, data);
      expect(heard).toEqual([]);
      expect(logged).toEqual([
        expect.objectContaining({ msg: 'dropped an event outside its contract', subject: filter }),
      ]);

      await bus.deliver(filter, filter, json.encode({ keyId }));
      expect(heard).toEqual([{ keyId }]);
    });

    it('logs a handler that throws or rejects, and keeps delivering', async () => {
      const filter = 't1.keys.v1.events.revoked';
      let calls = 0;
      events.subscribe(KeyRevoked, () => {
        calls++;
        if (calls === 1) throw new Error('fails at once');
        if (calls === 2) return Promise.reject(new Error('fails later'));
      });
      for (let i = 0; i < 3; i++) await bus.deliver(filter, filter, json.encode({ keyId }));
      expect(calls).toBe(3);
      expect(logged.map((l) => l.msg)).toEqual(['event handler failed', 'event handler failed']);
    });
  });
});
