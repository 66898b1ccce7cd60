import type { ConsumerMessages, JsMsg, NatsConnection } from 'nats';
import type { MessageOf, StreamContract } from '@lattice/contracts';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { PullConsumerLoop, decodeOrTerminate, type DurableOptions } from './jetstream';
import { SubjectNamespace } from './namespace';

export interface DurableBatchConsumerOptions<
  C extends StreamContract<z.ZodType>,
> extends DurableOptions {
  contract: C;
  /**
   * Handles every valid message of a batch at once; resolves once all of them are durably
   * processed. Throwing hands the whole batch back for redelivery, so it must be idempotent.
   */
  handleBatch: (messages: MessageOf<C>[]) => Promise<void>;
  logger: Logger;
  /** The most messages handled together. */
  batch?: number;
  /**
   * How many batches may be in hand at once (default 1). With more, the next batch is read
   * and handed over while the ones before are still being handled, and each batch is acked on
   * its own once its call resolved: batches may then finish out of order, so a handler that
   * needs an order among some messages keeps it itself.
   */
  inFlight?: number;
}

/**
 * A durable pull consumer that takes what has arrived, up to `batch` messages, hands it to
 * one call, and acks every message of it only after that call resolved. A message outside its
 * contract is terminated on its own and never holds up the rest. Under a trickle, batches are
 * as small as what is there: nothing waits for a batch to fill. With `inFlight` above 1, the
 * next batches are taken and handed over while earlier ones are still being handled.
 *
 * Messages are taken in the call that reads them from the connection (the client's callback
 * mode), not one awaited iterator step each: for a consumer that takes thousands of messages a
 * second, the promise and timer per message cost more than deciding what to do with it. What
 * is read while every slot is busy waits, and the server stops sending once the messages not
 * yet acked reach the consumer's limit.
 */
export class DurableBatchConsumer<C extends StreamContract<z.ZodType>> extends PullConsumerLoop {
  private readonly size: number;
  private readonly inFlight: number;
  /** Read and not yet in a batch. */
  private pending: JsMsg[] = [];
  /** Full batches waiting for a free slot. */
  private readonly ready: JsMsg[][] = [];
  /** The batches being handled. */
  private readonly handling = new Set<Promise<void>>();
  private tickScheduled = false;
  /** The consuming session now running, and why it must end, if it must. */
  private session: { messages: ConsumerMessages; failure?: { error: unknown } } | null = null;

  constructor(
    nc: NatsConnection,
    ns: SubjectNamespace,
    private readonly options: DurableBatchConsumerOptions<C>,
  ) {
    const size = options.batch ?? 500;
    const inFlight = Math.max(1, options.inFlight ?? 1);
    // room for the batches in hand and the next one arriving
    const room = size * (inFlight + 1);
    super(
      nc,
      ns,
      { ...options, maxAckPending: options.maxAckPending ?? Math.max(1_000, room) },
      room,
    );
    this.size = size;
    this.inFlight = inFlight;
  }

  /** Stops taking messages and waits for the batches in hand to be handled and acked. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.iterator?.stop();
    await this.running;
    await this.iterator?.close().catch(() => undefined);
  }

  protected override onMessage = (msg: JsMsg): void => {
    if (this.stopped || this.session?.failure) {
      // read after the session was told to end: back to the stream now, not after the ack wait
      msg.nak();
      return;
    }
    this.pending.push(msg);
    if (this.pending.length >= this.size) {
      this.ready.push(this.pending);
      this.pending = [];
      this.dispatch();
    }
    // what arrives in the same read joins this batch; the next turn hands over what there is
    if (!this.tickScheduled) {
      this.tickScheduled = true;
      setImmediate(() => {
        this.tickScheduled = false;
        this.dispatch();
      });
    }
  };

  protected async drain(messages: ConsumerMessages): Promise<void> {
    const session: NonNullable<typeof this.session> = { messages };
    this.session = session;
    this.dispatch();
    const closed = await messages.closed();
    // the batches in hand finish (and are acked or handed back) before the session ends
    while (this.handling.size > 0) await Promise.all(this.handling);
    this.session = null;
    // what was read but not handed over goes back now, not after the ack wait
    for (const batch of [...this.ready.splice(0), this.pending]) for (const msg of batch) msg.nak();
    this.pending = [];
    if (session.failure) throw session.failure.error;
    if (closed instanceof Error && !this.stopped) throw closed;
  }

  /** Hands over full batches, then what is pending, while a slot is free. */
  private dispatch(): void {
    const session = this.session;
    // stopping or failed: the batches in hand finish, nothing more is handed over
    if (!session || session.failure || this.stopped) return;
    while (this.handling.size < this.inFlight) {
      let batch = this.ready.shift();
      if (!batch && this.pending.length > 0) {
        batch = this.pending;
        this.pending = [];
      }
      if (!batch) return;
      const handled: Promise<void> = this.process(batch)
        .catch((error: unknown) => {
          // a batch that could not settle its messages ends the session; the loop resumes
          session.failure ??= { error };
          session.messages.stop();
        })
        .finally(() => {
          this.handling.delete(handled);
          this.dispatch();
        });
      this.handling.add(handled);
    }
  }

  private async process(batch: JsMsg[]): Promise<void> {
    const { contract, logger } = this.options;
    const valid: { msg: JsMsg; data: MessageOf<C> }[] = [];
    for (const msg of batch) {
      const parsed = decodeOrTerminate(msg, contract, logger);
      if (parsed.success) valid.push({ msg, data: parsed.data });
    }
    if (valid.length === 0) return;
    try {
      await this.options.handleBatch(valid.map((v) => v.data));
    } catch (error) {
      logger.error(
        { err: error, durable: this.options.durable, messages: valid.length },
        'batch failed, will be redelivered',
      );
      for (const { msg } of valid) msg.nak(Math.min(1_000 * msg.info.redeliveryCount, 30_000));
      return;
    }
    for (const { msg } of valid) msg.ack();
    // an ack lost here only means a redelivery, which the handler treats as a duplicate
    await this.nc.flush().catch(() => undefined);
  }
}
