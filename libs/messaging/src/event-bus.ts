import {
  JSONCodec,
  headers as natsHeaders,
  type Msg,
  type NatsConnection,
  type Subscription,
} from 'nats';
import type { EventContract, EventOf } from '@lattice/contracts';
import { extractTraceContext, injectTraceContext, withMessagingSpan } from '@lattice/telemetry';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { SubjectNamespace } from './namespace';
import { parsePayload } from './payload';

const json = JSONCodec();
/** One subject token: what a suffixed event may add to its contract's subject. */
const SUFFIX = /^[^.*>\s]+$/;

/** An event that breaks its contract, refused before it reaches the bus. */
export class EventContractError extends Error {
  override name = 'EventContractError';

  constructor(
    readonly subject: string,
    message: string,
    readonly issues: readonly { path: string; message: string }[] = [],
  ) {
    super(`${subject}: ${message}`);
  }
}

/** The suffix a suffixed event is published under; nothing for one on a fixed subject. */
export type SuffixOf<C> = C extends EventContract<z.ZodType, true> ? [suffix: string] : [];

/**
 * Typed core-NATS events: what is published keeps its contract or is refused, and what is
 * received reaches the handler only when it keeps the contract. An event outside it is logged
 * and dropped, and a handler that fails is logged: neither ends the subscription.
 */
export class EventBus {
  constructor(
    private readonly nc: NatsConnection,
    private readonly ns: SubjectNamespace,
    private readonly logger: Logger,
  ) {}

  /** Throws `EventContractError`, sending nothing, when the event breaks its contract. */
  publish<C extends EventContract<z.ZodType>>(
    contract: C,
    event: z.input<C['message']>,
    ...[suffix]: SuffixOf<C>
  ): void {
    const subject = this.subjectOf(contract, suffix);
    const parsed = contract.message.safeParse(event);
    if (!parsed.success) {
      throw new EventContractError(
        contract.subject,
        'the event breaks its contract',
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    }
    const headers = natsHeaders();
    injectTraceContext(headers);
    this.nc.publish(this.ns.subject(subject), json.encode(parsed.data), { headers });
  }

  /**
   * Hears every event of the contract until the subscription is unsubscribed. With `queue`,
   * the subscribers of one queue group share the events: each goes to one of them.
   */
  subscribe<C extends EventContract<z.ZodType>>(
    contract: C,
    handle: (event: EventOf<C>) => void | Promise<void>,
    options: { queue?: string } = {},
  ): Subscription {
    return this.nc.subscribe(this.ns.subject(contract.filter), {
      ...(options.queue ? { queue: options.queue } : {}),
      callback: (error, msg) => {
        if (error) {
          this.logger.warn({ err: error, subject: contract.filter }, 'event subscription failed');
          return;
        }
        void this.deliver(contract, msg, handle);
      },
    });
  }

  private async deliver<C extends EventContract<z.ZodType>>(
    contract: C,
    msg: Msg,
    handle: (event: EventOf<C>) => void | Promise<void>,
  ): Promise<void> {
    const event = this.decode(contract, msg);
    if (event === undefined) return;
    try {
      await withMessagingSpan(
        `${contract.subject} process`,
        'consumer',
        extractTraceContext(msg.headers),
        { 'messaging.destination.name': msg.subject },
        async () => handle(event),
      );
    } catch (error) {
      this.logger.error({ err: error, subject: msg.subject }, 'event handler failed');
    }
  }

  private decode<C extends EventContract<z.ZodType>>(
    contract: C,
    msg: Msg,
  ): EventOf<C> | undefined {
    const parsed = parsePayload(msg.data, contract.message);
    if (parsed.success) return parsed.data as EventOf<C>;
    this.logger.warn(
      { subject: msg.subject, issues: parsed.error.issues },
      'dropped an event outside its contract',
    );
    return undefined;
  }

  private subjectOf(contract: EventContract<z.ZodType>, suffix: string | undefined): string {
    if (!contract.suffixed) {
      if (suffix !== undefined) {
        throw new EventContractError(contract.subject, 'this event takes no subject suffix');
      }
      return contract.subject;
    }
    if (suffix === undefined || !SUFFIX.test(suffix)) {
      throw new EventContractError(
        contract.subject,
        `the subject suffix must be one token, not ${JSON.stringify(suffix)}`,
      );
    }
    return `${contract.subject}.${suffix}`;
  }
}
