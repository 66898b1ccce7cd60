import type { MessageOf, StreamContract } from '@lattice/contracts';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { JetStreamPublisher } from './jetstream';

/** An event waiting in a service's outbox table. */
export interface OutboxRow {
  id: string;
  eventId: string;
  subjectSuffix: string;
  payload: unknown;
}

export interface NewOutboxRow {
  tenantId: string;
  eventId: string;
  subjectSuffix: string;
  payload: unknown;
}

/** A service's own outbox table, read and written inside the transaction `tx`. */
export interface OutboxStore<Tx> {
  insert(tx: Tx, row: NewOutboxRow): Promise<void>;
  /** The oldest waiting rows in id order, locked `FOR UPDATE SKIP LOCKED`. */
  oldest(tx: Tx, limit: number): Promise<OutboxRow[]>;
  delete(tx: Tx, id: string): Promise<void>;
}

export interface TransactionalOutboxOptions<C extends StreamContract<z.ZodType>, Tx> {
  contract: C;
  store: OutboxStore<Tx>;
  /** One transaction in the scope that may read and delete every tenant's outbox rows. */
  inScope: <T>(work: (tx: Tx) => Promise<T>) => Promise<T>;
  publisher: Pick<JetStreamPublisher, 'publish'>;
  logger: Logger;
  /** What the events are called in the log: "tenant events". */
  label: string;
  batch?: number;
}

/**
 * Events are written in the same transaction as the change they describe, then published to
 * JetStream by the relay: a committed change always gets its event, and a rolled-back one never
 * does. The event id is the JetStream message id, so a relay that publishes twice (a crash
 * between publish and delete) is de-duplicated by the stream.
 */
export abstract class TransactionalOutbox<C extends StreamContract<z.ZodType>, Tx> {
  private timer?: NodeJS.Timeout;
  private pending: Promise<void> = Promise.resolve();
  private rerun = false;
  private relaying = false;
  private readonly batch: number;

  protected constructor(private readonly options: TransactionalOutboxOptions<C, Tx>) {
    this.batch = options.batch ?? 100;
  }

  /** Writes the event in the caller's transaction; `kick` publishes it once that commits. */
  protected append(
    tx: Tx,
    event: MessageOf<C> & { eventId: string },
    tenantId: string,
    subjectSuffix: string,
  ): Promise<void> {
    return this.options.store.insert(tx, {
      tenantId,
      eventId: event.eventId,
      subjectSuffix,
      payload: event,
    });
  }

  /** Publishes what is waiting now rather than at the next poll. */
  kick(): Promise<void> {
    if (this.relaying) {
      this.rerun = true;
      return this.pending;
    }
    this.relaying = true;
    this.pending = this.relay()
      .catch((error) =>
        this.options.logger.warn(
          { err: error },
          `${this.options.label} not published yet; will retry`,
        ),
      )
      .finally(() => {
        this.relaying = false;
        if (this.rerun) {
          this.rerun = false;
          void this.kick();
        }
      });
    return this.pending;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.kick(), 1_000);
    this.timer.unref();
    void this.kick();
  }

  /** Stops polling and waits for the relay run in hand, so no publish is cut off. */
  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.pending;
  }

  private async relay(): Promise<void> {
    const { contract, store, inScope, publisher } = this.options;
    for (;;) {
      const published = await inScope(async (tx) => {
        const rows = await store.oldest(tx, this.batch);
        for (const row of rows) {
          await publisher.publish(
            contract,
            row.payload as MessageOf<C>,
            row.eventId,
            row.subjectSuffix,
          );
          await store.delete(tx, row.id);
        }
        return rows.length;
      });
      if (published < this.batch) return;
    }
  }
}
