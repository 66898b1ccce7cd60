import {
  AckPolicy,
  DeliverPolicy,
  JSONCodec,
  headers as natsHeaders,
  type Consumer,
  type ConsumerMessages,
  type JetStreamClient,
  type JsMsg,
  type NatsConnection,
  type StreamConfig,
} from 'nats';
import type { MessageOf, StreamContract, StreamDeclaration } from '@lattice/contracts';
import { extractTraceContext, injectTraceContext, withMessagingSpan } from '@lattice/telemetry';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { SubjectNamespace } from './namespace';
import { parsePayload } from './payload';

const json = JSONCodec();

/** Creates the stream, or brings an existing one's subjects and limits up to date. */
export async function ensureStream(
  nc: NatsConnection,
  ns: SubjectNamespace,
  stream: StreamDeclaration,
  options: Partial<StreamConfig> = {},
): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const config: Partial<StreamConfig> = {
    name: ns.stream(stream.name),
    subjects: stream.subjects.map((s) => ns.subject(s)),
    duplicate_window: 2 * 60 * 1_000_000_000, // nanoseconds
    ...options,
  };
  try {
    await jsm.streams.info(config.name!);
    await jsm.streams.update(config.name!, config);
  } catch (error) {
    if ((error as { code?: string }).code !== '404') throw error;
    await jsm.streams.add(config);
  }
}

/** Publishes a message that must not be lost; `messageId` lets JetStream drop a duplicate. */
export class JetStreamPublisher {
  private readonly js: JetStreamClient;

  constructor(
    nc: NatsConnection,
    private readonly ns: SubjectNamespace,
  ) {
    this.js = nc.jetstream();
  }

  async publish<C extends StreamContract<z.ZodType>>(
    contract: C,
    message: MessageOf<C>,
    messageId: string,
    subjectSuffix?: string,
  ): Promise<void> {
    const payload = contract.message.parse(message);
    const subject = this.ns.subject(
      subjectSuffix ? `${contract.subject}.${subjectSuffix}` : contract.subject,
    );
    const headers = natsHeaders();
    injectTraceContext(headers);
    await this.js.publish(subject, json.encode(payload), { msgID: messageId, headers });
  }
}

export interface DurableOptions {
  contract: StreamContract<z.ZodType>;
  durable: string;
  ackWaitMs?: number;
  maxDeliver?: number;
  /** The most messages delivered and not yet acked (JetStream's default, 1,000, when unset). */
  maxAckPending?: number;
}

/** JetStream's answer to creating a durable that exists with other settings. */
const CONSUMER_EXISTS = 10148;

/**
 * Creates the durable pull consumer of a contract's subjects; one that exists already gets its
 * subject and limits brought up to date (what can change without recreating it).
 */
export async function ensureDurableConsumer(
  nc: NatsConnection,
  ns: SubjectNamespace,
  options: DurableOptions,
): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const { contract, durable } = options;
  const stream = ns.stream(contract.stream.name);
  const settings = {
    filter_subject: ns.subject(contract.filter),
    ack_wait: (options.ackWaitMs ?? 30_000) * 1_000_000,
    max_deliver: options.maxDeliver ?? -1,
    ...(options.maxAckPending ? { max_ack_pending: options.maxAckPending } : {}),
  };
  try {
    await jsm.consumers.add(stream, {
      durable_name: ns.durable(durable),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...settings,
    });
  } catch (error) {
    if ((error as { api_error?: { err_code?: number } }).api_error?.err_code !== CONSUMER_EXISTS)
      throw error;
    await jsm.consumers.update(stream, ns.durable(durable), settings);
  }
}

/**
 * The message's payload if it keeps its contract; otherwise the message is terminated (it
 * could never succeed, so it is not redelivered) and logged.
 */
export function decodeOrTerminate<C extends StreamContract<z.ZodType>>(
  msg: JsMsg,
  contract: C,
  logger: Logger,
): { success: true; data: MessageOf<C> } | { success: false } {
  const parsed = parsePayload(msg.data, contract.message);
  if (parsed.success) return { success: true, data: parsed.data as MessageOf<C> };
  logger.error(
    { subject: msg.subject, seq: msg.seq, issues: parsed.error?.issues },
    'rejected message outside its contract',
  );
  msg.term();
  return { success: false };
}

/** Thrown by a handler for a message that can never succeed: it is terminated, not redelivered. */
export class RejectMessage extends Error {
  override name = 'RejectMessage';
}

export interface DurableConsumerOptions<C extends StreamContract<z.ZodType>> {
  contract: C;
  durable: string;
  /** Handles one valid message; resolves once it is durably processed. */
  handle: (message: MessageOf<C>) => Promise<void>;
  logger: Logger;
  ackWaitMs?: number;
  maxDeliver?: number;
  batch?: number;
}

/**
 * What every durable pull consumer shares: it makes sure its consumer exists, consumes from
 * it, and when the connection or the consumer is lost, backs off and resumes. Subclasses say
 * what to do with the messages of one consuming session and how to stop.
 */
export abstract class PullConsumerLoop {
  protected stopped = false;
  protected running?: Promise<void>;
  protected iterator?: ConsumerMessages;
  /** The pause before resuming after a session failed; back to its least once one opens. */
  private backoffMs = 250;

  constructor(
    protected readonly nc: NatsConnection,
    protected readonly ns: SubjectNamespace,
    private readonly target: DurableOptions & { logger: Logger },
    private readonly maxMessages: number,
  ) {}

  async start(): Promise<void> {
    await ensureDurableConsumer(this.nc, this.ns, this.target);
    this.running = this.loop();
  }

  /**
   * One consuming session of the consumer, from `open` until it ends or the consumer stops;
   * throwing ends it, and the loop resumes after a pause.
   */
  protected abstract session(consumer: Consumer): Promise<void>;

  /** Starts consuming, up to the loop's count of messages delivered ahead. */
  protected async open(
    consumer: Consumer,
    options: { callback?: (msg: JsMsg) => void } = {},
  ): Promise<ConsumerMessages> {
    const messages = await consumer.consume({ max_messages: this.maxMessages, ...options });
    this.iterator = messages;
    if (this.stopped) messages.stop();
    this.backoffMs = 250;
    return messages;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        const consumer = await this.nc
          .jetstream()
          .consumers.get(
            this.ns.stream(this.target.contract.stream.name),
            this.ns.durable(this.target.durable),
          );
        await this.session(consumer);
      } catch (error) {
        if (this.stopped) break;
        this.target.logger.warn(
          { err: error, durable: this.target.durable },
          'consumer interrupted, resuming',
        );
        await new Promise((r) => setTimeout(r, this.backoffMs));
        this.backoffMs = Math.min(this.backoffMs * 2, 5_000);
        await ensureDurableConsumer(this.nc, this.ns, this.target).catch(() => undefined);
      }
    }
  }
}

/**
 * A durable pull consumer that acks a message only after its handler has finished, rejects
 * (terminates) a message that breaks the contract instead of redelivering it for ever, and
 * resumes after the connection or the consumer is lost.
 */
export class DurableConsumer<C extends StreamContract<z.ZodType>> extends PullConsumerLoop {
  constructor(
    nc: NatsConnection,
    ns: SubjectNamespace,
    private readonly options: DurableConsumerOptions<C>,
  ) {
    super(nc, ns, options, options.batch ?? 100);
  }

  /** Stops taking messages and waits for the one in hand to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.iterator?.close().catch(() => undefined);
    await this.running;
  }

  protected async session(consumer: Consumer): Promise<void> {
    for await (const msg of await this.open(consumer)) {
      await this.process(msg);
      if (this.stopped) break;
    }
  }

  private async process(msg: JsMsg): Promise<void> {
    const { contract, handle, logger } = this.options;
    await withMessagingSpan(
      `${contract.subject} process`,
      'consumer',
      extractTraceContext(msg.headers),
      { 'messaging.destination.name': msg.subject },
      async () => {
        const parsed = decodeOrTerminate(msg, contract, logger);
        if (!parsed.success) return;
        try {
          await handle(parsed.data);
          await msg.ackAck().catch(() => msg.ack());
        } catch (error) {
          if (error instanceof RejectMessage) {
            logger.error(
              { subject: msg.subject, seq: msg.seq, reason: error.message },
              'rejected message',
            );
            msg.term();
            return;
          }
          logger.error(
            { err: error, subject: msg.subject, seq: msg.seq },
            'message failed, will be redelivered',
          );
          msg.nak(Math.min(1_000 * msg.info.redeliveryCount, 30_000));
        }
      },
    );
  }
}
