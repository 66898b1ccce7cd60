import type { Logger } from 'pino';
import { z } from 'zod';
import { stream, streamSubject } from '@lattice/contracts';
import type { JetStreamPublisher } from './jetstream';
import {
  TransactionalOutbox,
  type NewOutboxRow,
  type OutboxRow,
  type OutboxStore,
} from './transactional-outbox';

const ThingEvents = streamSubject(
  stream('THINGS', ['things.v1.events.>']),
  'things.v1.events',
  z.object({ eventId: z.string(), thing: z.string() }),
);
type ThingChanged = z.output<typeof ThingEvents.message>;

/** A transaction: what it deleted is put back if its work throws. */
interface Tx {
  deleted: OutboxRow[];
}

/** An outbox table in memory, rows in id order. */
class OutboxInMemory implements OutboxStore<Tx> {
  rows: OutboxRow[] = [];
  private nextId = 1;

  async insert(_tx: Tx, row: NewOutboxRow): Promise<void> {
    this.rows.push({
      id: String(this.nextId++),
      eventId: row.eventId,
      subjectSuffix: row.subjectSuffix,
      payload: row.payload,
    });
  }

  async oldest(_tx: Tx, limit: number): Promise<OutboxRow[]> {
    return [...this.rows].sort((a, b) => Number(a.id) - Number(b.id)).slice(0, limit);
  }

  async delete(tx: Tx, id: string): Promise<void> {
    tx.deleted.push(...this.rows.filter((r) => r.id === id));
    this.rows = this.rows.filter((r) => r.id !== id);
  }

  async transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const tx: Tx = { deleted: [] };
    try {
      return await work(tx);
    } catch (error) {
      this.rows.push(...tx.deleted);
      throw error;
    }
  }

  get eventIds(): string[] {
    return this.rows.map((r) => r.eventId);
  }
}

class ThingOutbox extends TransactionalOutbox<typeof ThingEvents, Tx> {
  constructor(
    store: OutboxInMemory,
    publisher: Pick<JetStreamPublisher, 'publish'>,
    logger: Logger,
  ) {
    super({
      contract: ThingEvents,
      store,
      inScope: (work) => store.transaction(work),
      publisher,
      logger,
      label: 'thing events',
      batch: 2,
    });
  }

  record(event: ThingChanged): Promise<void> {
    return this.append({ deleted: [] }, event, 'tenant-a', 'changed');
  }
}

type Publish = (
  contract: typeof ThingEvents,
  message: ThingChanged,
  messageId: string,
  subjectSuffix?: string,
) => Promise<void>;

function setUp() {
  const store = new OutboxInMemory();
  const published: { eventId: string; subjectSuffix?: string; stillWaiting: boolean }[] = [];
  const publish = jest.fn<ReturnType<Publish>, Parameters<Publish>>(
    async (_contract, message, messageId, subjectSuffix) => {
      expect(message.eventId).toBe(messageId);
      published.push({
        eventId: messageId,
        subjectSuffix,
        stillWaiting: store.eventIds.includes(messageId),
      });
    },
  );
  const logger = { warn: jest.fn() };
  const outbox = new ThingOutbox(
    store,
    { publish } as unknown as Pick<JetStreamPublisher, 'publish'>,
    logger as unknown as Logger,
  );
  return { store, publish, published, logger, outbox };
}

const events = (...ids: string[]): ThingChanged[] => ids.map((id) => ({ eventId: id, thing: id }));

describe(TransactionalOutbox.name, () => {
  it('publishes every waiting event in id order, across batches, deleting each after its publish', async () => {
    const { store, published, outbox } = setUp();
    for (const event of events('e1', 'e2', 'e3', 'e4', 'e5')) await outbox.record(event);

    await outbox.kick();

    expect(published).toEqual(
      ['e1', 'e2', 'e3', 'e4', 'e5'].map((eventId) => ({
        eventId,
        subjectSuffix: 'changed',
        stillWaiting: true,
      })),
    );
    expect(store.rows).toEqual([]);
  });

  it('keeps the events of a failed publish and publishes them on the next run', async () => {
    const { store, publish, published, logger, outbox } = setUp();
    for (const event of events('e1', 'e2')) await outbox.record(event);
    publish.mockRejectedValueOnce(new Error('no stream'));

    await outbox.kick();

    expect(logger.warn).toHaveBeenCalledWith(
      { err: expect.objectContaining({ message: 'no stream' }) },
      'thing events not published yet; will retry',
    );
    expect(store.eventIds.sort()).toEqual(['e1', 'e2']);

    await outbox.kick();

    expect(published.map((p) => p.eventId)).toEqual(['e1', 'e2']);
    expect(store.rows).toEqual([]);
  });

  it('runs once more after a run in hand when kicked during it, for what arrived meanwhile', async () => {
    const { store, publish, outbox } = setUp();
    await outbox.record(events('e1')[0]!);
    let release!: () => void;
    publish.mockImplementationOnce(() => new Promise<void>((resolve) => (release = resolve)));

    const first = outbox.kick();
    await waitFor(() => publish.mock.calls.length === 1);
    await outbox.record(events('e2')[0]!);
    const second = outbox.kick();
    const third = outbox.kick();
    release();
    await Promise.all([first, second, third]);
    await waitFor(() => store.rows.length === 0);

    expect(publish.mock.calls.map((call) => call[2])).toEqual(['e1', 'e2']);
  });

  it('on shutdown, waits for the run in hand to finish its publish and delete', async () => {
    const { store, publish, outbox } = setUp();
    await outbox.record(events('e1')[0]!);
    let release!: () => void;
    publish.mockImplementationOnce(() => new Promise<void>((resolve) => (release = resolve)));

    void outbox.kick();
    await waitFor(() => publish.mock.calls.length === 1);
    let stopped = false;
    const stopping = outbox.onApplicationShutdown().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    expect(store.eventIds).toEqual(['e1']);

    release();
    await stopping;

    expect(store.rows).toEqual([]);
  });
});

/** Lets every promise that can move, move. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await settle();
}
