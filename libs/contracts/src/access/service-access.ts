import type { z } from 'zod';
import type { EventContract, RpcContract, StreamContract, StreamDeclaration } from '../subject';

type AnyRpc = RpcContract<z.ZodType, z.ZodType>;

/** A durable JetStream consumer a service reads a stream through. */
export interface ConsumedStream {
  contract: StreamContract<z.ZodType>;
  durable: string;
}

/**
 * What one service does on NATS, declared once beside the contracts: the subjects it answers
 * (in its queue group), the ones it calls, the events and stream messages it sends and hears,
 * the streams it creates and the durable consumers it reads. Its NATS user's rights are
 * derived from this and nothing else, so a service doing something it does not declare is
 * refused by the server.
 */
export interface ServiceAccess {
  /** The service's name: its NATS user, queue group and request-context identity. */
  readonly service: string;
  /** Request/reply subjects it answers, in its queue group. */
  readonly handles: readonly AnyRpc[];
  /** Request/reply subjects it calls (one answer, or a scatter-gather). */
  readonly calls: readonly AnyRpc[];
  /** Core-NATS events it tells. */
  readonly emits: readonly EventContract<z.ZodType>[];
  /** Core-NATS events it listens to (every instance hears each). */
  readonly listens: readonly EventContract<z.ZodType>[];
  /** Streams it creates or brings up to date at start. */
  readonly streams: readonly StreamDeclaration[];
  /** JetStream subjects it publishes to. */
  readonly publishes: readonly StreamContract<z.ZodType>[];
  /** Durable consumers it creates and reads. */
  readonly consumes: readonly ConsumedStream[];
  /** It reads the backlog of any JetStream consumer (the operator's queue-depth metric). */
  readonly inspectsConsumers: boolean;
}

export function serviceAccess(
  declaration: Partial<Omit<ServiceAccess, 'service'>> & { service: string },
): ServiceAccess {
  if (!/^[a-z][a-z0-9-]*$/.test(declaration.service)) {
    throw new Error(`"${declaration.service}" is not a service name (lower-case, digits, dashes)`);
  }
  return Object.freeze({
    handles: [],
    calls: [],
    emits: [],
    listens: [],
    streams: [],
    publishes: [],
    consumes: [],
    inspectsConsumers: false,
    ...declaration,
  });
}

/** Every request/reply contract of a subjects module (`import * as X from '…subjects'`). */
export function rpcContractsOf(module: Record<string, unknown>): AnyRpc[] {
  return Object.values(module).filter(
    (value): value is AnyRpc =>
      typeof value === 'object' &&
      value !== null &&
      typeof (value as AnyRpc).subject === 'string' &&
      'request' in value &&
      'reply' in value,
  );
}
