import { randomUUID } from 'node:crypto';
import {
  headers as natsHeaders,
  ErrorCode as NatsErrorCode,
  type MsgHdrs,
  type NatsConnection,
  NatsError,
  RequestStrategy,
} from 'nats';
import {
  DomainError,
  ErrorCode,
  type ReplyOf,
  type RequestOf,
  type RpcContract,
} from '@lattice/contracts';
import { injectTraceContext, withMessagingSpan } from '@lattice/telemetry';
import { context as otelContext } from '@opentelemetry/api';
import type { z } from 'zod';
import { SubjectNamespace } from './namespace';
import type { ContextSigner, RequestContext } from '@lattice/request-context';
import { CONTEXT_HEADER, REQUEST_ID_HEADER } from './context-headers';

export interface RpcOptions {
  timeoutMs?: number;
}

/**
 * Typed request/reply over core NATS. Speaks the packet format of `@nestjs/microservices`
 * (`{ pattern, data, id }` in, `{ id, response | err }` out) on a plain NATS request, so a
 * service that is not running answers at once with "no responders" instead of a timeout.
 */
export class RpcClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly signer: ContextSigner,
    private readonly ns: SubjectNamespace,
    private readonly defaultTimeoutMs = 5_000,
  ) {}

  async request<C extends RpcContract<z.ZodType, z.ZodType>>(
    contract: C,
    payload: RequestOf<C> | z.input<C['request']>,
    ctx: RequestContext,
    options: RpcOptions = {},
  ): Promise<ReplyOf<C>> {
    return this.send(contract, payload, ctx, 'request', async (subject, { headers, body }) => {
      let raw: Uint8Array;
      try {
        const msg = await this.nc.request(subject, body, {
          timeout: options.timeoutMs ?? this.defaultTimeoutMs,
          headers,
        });
        raw = msg.data;
      } catch (error) {
        throw translateTransportError(error, contract.subject);
      }
      return decodeReply(contract, raw);
    });
  }

  /**
   * Scatter-gather: asks every service listening on the subject (one member of each queue
   * group answers) and gathers the replies that arrive within `maxWaitMs`. A reply outside the
   * contract, or an error, is reported as such rather than failing the whole gathering.
   */
  async requestMany<C extends RpcContract<z.ZodType, z.ZodType>>(
    contract: C,
    payload: RequestOf<C> | z.input<C['request']>,
    ctx: RequestContext,
    options: { maxWaitMs?: number } = {},
  ): Promise<({ ok: true; reply: ReplyOf<C> } | { ok: false; error: DomainError })[]> {
    return this.send(contract, payload, ctx, 'gather', async (subject, { headers, body }) => {
      const replies: ({ ok: true; reply: ReplyOf<C> } | { ok: false; error: DomainError })[] = [];
      try {
        const messages = await this.nc.requestMany(subject, body, {
          strategy: RequestStrategy.Timer,
          maxWait: options.maxWaitMs ?? 2_000,
          headers,
        });
        for await (const msg of messages) {
          try {
            replies.push({ ok: true, reply: decodeReply(contract, msg.data) });
          } catch (error) {
            if (!(error instanceof DomainError)) throw error;
            replies.push({ ok: false, error });
          }
        }
      } catch (error) {
        // no service listening is an empty gathering, not a failure
        if (error instanceof NatsError && error.code === NatsErrorCode.NoResponders) return [];
        throw translateTransportError(error, contract.subject);
      }
      return replies;
    });
  }

  /** Packs the request and hands it to `transport`, in a client span named for the subject. */
  private send<T>(
    contract: RpcContract<z.ZodType, z.ZodType>,
    payload: unknown,
    ctx: RequestContext,
    operation: 'request' | 'gather',
    transport: (subject: string, packet: { headers: MsgHdrs; body: string }) => Promise<T>,
  ): Promise<T> {
    const subject = this.ns.subject(contract.subject);
    return withMessagingSpan(
      `${contract.subject} ${operation}`,
      'client',
      otelContext.active(),
      { 'messaging.destination.name': subject },
      async () => transport(subject, await this.packet(contract, payload, ctx)),
    );
  }

  private async packet(
    contract: RpcContract<z.ZodType, z.ZodType>,
    payload: unknown,
    ctx: RequestContext,
  ): Promise<{ headers: MsgHdrs; body: string }> {
    const headers = natsHeaders();
    headers.set(CONTEXT_HEADER, await this.signer.sign(ctx));
    headers.set(REQUEST_ID_HEADER, ctx.requestId);
    injectTraceContext(headers);
    const id = randomUUID();
    return { headers, body: JSON.stringify({ pattern: contract.subject, data: payload, id }) };
  }
}

function translateTransportError(error: unknown, subject: string): DomainError {
  if (error instanceof NatsError) {
    if (error.code === NatsErrorCode.NoResponders) {
      return new DomainError(ErrorCode.Unavailable, `no service is answering ${subject}`);
    }
    if (error.code === NatsErrorCode.Timeout) {
      return new DomainError(ErrorCode.Timeout, `${subject} did not answer in time`);
    }
    if (error.isPermissionError()) {
      // the server holds this service to what its access declaration gives it
      return new DomainError(
        ErrorCode.Forbidden,
        `this service's NATS user may not ${error.permissionContext?.operation ?? 'call'} ${subject}`,
        { reason: 'nats-permission' },
      );
    }
    if (error.code === NatsErrorCode.Disconnect || error.code === NatsErrorCode.ConnectionClosed) {
      return new DomainError(ErrorCode.Unavailable, 'the message bus is not reachable');
    }
  }
  return new DomainError(ErrorCode.Unavailable, `request to ${subject} failed`);
}

function decodeReply<C extends RpcContract<z.ZodType, z.ZodType>>(
  contract: C,
  raw: Uint8Array,
): ReplyOf<C> {
  let packet: { response?: unknown; err?: unknown };
  try {
    packet = JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch {
    throw new DomainError(ErrorCode.Internal, `${contract.subject} sent an unreadable reply`);
  }
  if (packet.err !== undefined && packet.err !== null) {
    if (DomainError.isPayload(packet.err)) throw DomainError.fromPayload(packet.err);
    throw new DomainError(ErrorCode.Internal, `${contract.subject} failed`);
  }
  const parsed = contract.reply.safeParse(packet.response);
  if (!parsed.success) {
    throw new DomainError(ErrorCode.Internal, `${contract.subject} replied outside its contract`);
  }
  return parsed.data as ReplyOf<C>;
}
