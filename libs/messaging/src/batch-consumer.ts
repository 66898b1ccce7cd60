import type { Consumer, JsMsg, NatsConnection } from 'nats';
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

  /**
   * Messages are taken as the client reads them, in its callback, with no iterator or promise
   * of their own (that machinery cost as much per message as the rest of its reading); what
   * arrived before the event loop's next check phase is one batch, split at `batch`.
   */
  protected async session(consumer: Consumer): Promise<void> {
    const arrived: JsMsg[] = [];
    // the batches in hand; one that fails to settle its messages ends the session
    const handling = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    let fail!: (failed: { error: unknown }) => void;
    const failed = new Promise<{ error: unknown }>((resolve) => (fail = resolve));
    let taking = true;
    let cutting: NodeJS.Immediate | undefined;
    const cut = () => {
      cutting = undefined;
      while (taking && arrived.length > 0 && handling.size < this.inFlight) {
        const handled: Promise<void> = this.process(arrived.splice(0, this.size))
          .catch((error: unknown) => fail((failure ??= { error })))
          .finally(() => {
            handling.delete(handled);
            // what arrived while every batch in hand was taken goes next
            if (arrived.length > 0) cutting ??= setImmediate(cut);
          });
        handling.add(handled);
      }
    };
    const messages = await this.open(consumer, {
      callback: (msg) => {
        if (!taking) return void msg.nak();
        arrived.push(msg);
        cutting ??= setImmediate(cut);
      },
    });
    // it ends when consuming stops (the consumer stopped, or the client lost the consumer),
    // or when a batch could not be settled
    const closed = await Promise.race([messages.closed(), failed]);
    taking = false;
    messages.stop();
    await Promise.all(handling);
    // read but never handed over: back now, not after the ack wait
    for (const msg of arrived.splice(0)) msg.nak();
    if (failure) throw failure.error;
    if (closed instanceof Error) throw closed;
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
