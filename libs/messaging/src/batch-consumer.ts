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
 */
export class DurableBatchConsumer<C extends StreamContract<z.ZodType>> extends PullConsumerLoop {
  private readonly size: number;
  private readonly inFlight: number;

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

  protected async drain(messages: ConsumerMessages): Promise<void> {
    const it = messages[Symbol.asyncIterator]();
    // one call to next() may be left waiting for a message; it is kept for the next turn
    let waiting: Promise<IteratorResult<JsMsg>> | null = null;
    /**
     * The next message if it has arrived by `tick` (one turn of the event loop), else null. A
     * message already buffered resolves in a microtask, before any tick: one tick serves a
     * whole batch, not one timer and race per message.
     */
    const arrived = async (tick: Promise<null>): Promise<IteratorResult<JsMsg> | null> => {
      waiting ??= it.next();
      const result = await Promise.race([waiting, tick]);
      if (result !== null) waiting = null;
      return result;
    };
    // the batches in hand; a batch that fails to settle its messages ends the session
    const handling = new Set<Promise<void>>();
    const session: { failure?: { error: unknown } } = {};
    try {
      while (!this.stopped && !session.failure) {
        const first = await (waiting ??= it.next());
        waiting = null;
        if (first.done) break;
        const batch: JsMsg[] = [first.value];
        // whatever has already arrived joins the batch; nothing waits for more
        const tick = nextTick();
        while (batch.length < this.size) {
          const next = await arrived(tick);
          if (next === null || next.done) break;
          batch.push(next.value);
        }
        const handled: Promise<void> = this.process(batch)
          .catch((error: unknown) => void (session.failure ??= { error }))
          .finally(() => handling.delete(handled));
        handling.add(handled);
        if (handling.size >= this.inFlight) await Promise.race(handling);
      }
    } finally {
      await Promise.all(handling);
    }
    if (session.failure) throw session.failure.error;
    // stopping: what was delivered but not handled goes back now, not after the ack wait
    const tick = nextTick();
    for (let left = await arrived(tick); left && !left.done; left = await arrived(tick)) {
      left.value.nak();
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

/** Resolves with null once the messages already buffered have had their turn. */
const nextTick = () => new Promise<null>((resolve) => setImmediate(() => resolve(null)));
