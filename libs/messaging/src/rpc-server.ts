import {
  Catch,
  Injectable,
  Logger,
  SetMetadata,
  UseFilters,
  UseInterceptors,
  applyDecorators,
  createParamDecorator,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type RpcExceptionFilter,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  MessagePattern,
  ServerNats,
  type NatsContext,
  type NatsOptions,
} from '@nestjs/microservices';
import {
  DomainError,
  ErrorCode,
  domainErrorOfDatabase,
  type ErrorPayload,
  type RpcContract,
} from '@lattice/contracts';
import { extractTraceContext, withMessagingSpan } from '@lattice/telemetry';
import type { NatsConnection } from 'nats';
import { throwError, type Observable } from 'rxjs';
import { ZodError, type z } from 'zod';
import { SubjectNamespace } from './namespace';
import { ContextSigner, type RequestContext } from '@lattice/request-context';
import { CONTEXT_HEADER, requestContextStore } from './context-headers';

/**
 * Nest's NATS transport, with subjects in the installation's namespace and a server span per
 * message that continues the caller's trace.
 */
export class LatticeNatsServer extends ServerNats {
  private readonly ns: SubjectNamespace;

  constructor(options: Required<NatsOptions>['options'] & { namespace?: string }) {
    super({ maxReconnectAttempts: -1, reconnectTimeWait: 250, ...options });
    this.ns = new SubjectNamespace(options.namespace);
  }

  override bindEvents(client: NatsConnection): void {
    const ns = this.ns;
    const namespaced = Object.create(client, {
      subscribe: {
        value: (subject: string, opts: unknown) =>
          client.subscribe(ns.subject(subject), opts as never),
      },
    });
    super.bindEvents(namespaced);
  }

  override handleMessage(
    channel: string,
    natsMsg: { headers?: never; subject: string },
  ): Promise<unknown> {
    return withMessagingSpan(
      `${channel} process`,
      'server',
      extractTraceContext(natsMsg.headers),
      { 'messaging.destination.name': natsMsg.subject },
      () => super.handleMessage(channel, natsMsg),
    );
  }
}

const CONTRACT = Symbol('lattice:rpc-contract');

/**
 * Verifies the signed request context, validates the payload against the subject's contract,
 * and runs the handler with the context available through `@CallContext()`.
 */
@Injectable()
export class RpcBoundaryInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly signer: ContextSigner,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const contract = this.reflector.get<RpcContract<z.ZodType, z.ZodType>>(
      CONTRACT,
      context.getHandler(),
    );
    const rpc = context.switchToRpc();
    const token = rpc.getContext<NatsContext>().getHeaders()?.get(CONTEXT_HEADER);
    const ctx = await this.signer.verify(token || undefined);
    const parsed = contract.request.safeParse(rpc.getData());
    if (!parsed.success) throw validationError(parsed.error);
    // the handler receives the validated (defaulted, coerced) payload, not the raw one
    context.getArgs()[0] = parsed.data;
    return requestContextStore.run(ctx, () => next.handle());
  }
}

/** Turns anything a handler throws into the `{ code, message, details }` the caller decodes. */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('rpc');

  catch(exception: unknown): Observable<ErrorPayload> {
    return throwError(() => this.toPayload(exception));
  }

  private toPayload(exception: unknown): ErrorPayload {
    if (exception instanceof DomainError) return exception.toPayload();
    if (exception instanceof ZodError) return validationError(exception).toPayload();
    const fromDatabase = domainErrorOfDatabase(exception);
    if (fromDatabase) {
      this.logger.warn(`refused by the database: ${(exception as Error).message}`);
      return fromDatabase.toPayload();
    }
    this.logger.error(
      (exception as Error)?.message ?? String(exception),
      (exception as Error)?.stack,
    );
    return { code: ErrorCode.Internal, message: 'internal error' };
  }
}

export function validationError(error: ZodError): DomainError {
  return new DomainError(ErrorCode.ValidationFailed, 'the request is not valid', {
    issues: error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  });
}

/** Marks a method as the handler of a request/reply subject. */
export function Handles(contract: RpcContract<z.ZodType, z.ZodType>) {
  return applyDecorators(
    MessagePattern(contract.subject),
    SetMetadata(CONTRACT, contract),
    UseInterceptors(RpcBoundaryInterceptor),
    UseFilters(RpcErrorFilter),
  );
}

/** The verified request context of the call being handled. */
export const CallContext = createParamDecorator(
  (_: unknown, _ctx: ExecutionContext): RequestContext => {
    const ctx = requestContextStore.getStore();
    if (!ctx) throw new DomainError(ErrorCode.Unauthenticated, 'request context is missing');
    return ctx;
  },
);
