import {
  ArgumentsHost,
  Catch,
  HttpException,
  HttpStatus,
  type ExceptionFilter,
} from '@nestjs/common';
import { DomainError, ErrorCode } from '@lattice/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { PROBLEM_CONTENT_TYPE, problem, type Problem } from './problem';

const HTTP_CODES: Partial<Record<number, ErrorCode>> = {
  [HttpStatus.BAD_REQUEST]: ErrorCode.ValidationFailed,
  [HttpStatus.UNAUTHORIZED]: ErrorCode.Unauthenticated,
  [HttpStatus.FORBIDDEN]: ErrorCode.Forbidden,
  [HttpStatus.NOT_FOUND]: ErrorCode.NotFound,
  [HttpStatus.METHOD_NOT_ALLOWED]: ErrorCode.NotFound,
  [HttpStatus.CONFLICT]: ErrorCode.Conflict,
  [HttpStatus.PAYLOAD_TOO_LARGE]: ErrorCode.PayloadTooLarge,
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: ErrorCode.UnsupportedMediaType,
  [HttpStatus.TOO_MANY_REQUESTS]: ErrorCode.RateLimited,
  [HttpStatus.SERVICE_UNAVAILABLE]: ErrorCode.Unavailable,
};

/** Fastify's own errors (body parsing, content type, size) by their codes. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ErrorCode.PayloadTooLarge,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ErrorCode.UnsupportedMediaType,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ErrorCode.ValidationFailed,
  FST_ERR_CTP_EMPTY_JSON_BODY: ErrorCode.ValidationFailed,
  FST_ERR_CTP_INVALID_JSON_BODY: ErrorCode.ValidationFailed,
  // the router's own refusals: a path that is not valid percent-encoded UTF-8, or a path
  // parameter longer than any id
  FST_ERR_BAD_URL: ErrorCode.ValidationFailed,
  FST_ERR_MAX_PARAM_LENGTH: ErrorCode.ValidationFailed,
};

/** Turns anything thrown while handling a request into problem+json; never leaks internals. */
export function toProblem(error: unknown, request: FastifyRequest, logger: Logger): Problem {
  const where = { instance: request.url, requestId: request.id };
  if (error instanceof DomainError)
    return problem(error.code, error.message, { ...where, details: error.details });
  if (error instanceof HttpException) {
    const code = HTTP_CODES[error.getStatus()];
    if (code) return problem(code, error.message, where);
  }
  const fastifyCode = (error as { code?: string })?.code;
  if (fastifyCode && FASTIFY_CODES[fastifyCode]) {
    return problem(FASTIFY_CODES[fastifyCode], (error as Error).message, where);
  }
  if (error instanceof SyntaxError || (error as { statusCode?: number })?.statusCode === 400) {
    return problem(ErrorCode.ValidationFailed, 'the request body is not valid JSON', where);
  }
  logger.error({ err: error, requestId: request.id }, 'unhandled error');
  return problem(ErrorCode.Internal, 'an unexpected error occurred', where);
}

export function sendProblem(reply: FastifyReply, body: Problem): void {
  if (body.status === 401) reply.header('www-authenticate', 'Bearer realm="lattice"');
  if (body.status === 503) reply.header('retry-after', '1');
  void reply.status(body.status).header('content-type', PROBLEM_CONTENT_TYPE).send(body);
}

/** Told of a request the router refused, once it is answered; no route hook sees those. */
export type RouterRefusalListener = (request: FastifyRequest, status: number) => void;
const routerRefusalListeners = new WeakMap<FastifyInstance, RouterRefusalListener[]>();

export function onRouterRefusal(fastify: FastifyInstance, listener: RouterRefusalListener): void {
  routerRefusalListeners.set(fastify, [...(routerRefusalListeners.get(fastify) ?? []), listener]);
}

/**
 * Fastify's `frameworkErrors`: what the router refuses before any route (a path that is not
 * valid percent-encoded UTF-8, a parameter longer than any id) is answered as problem+json
 * too, and reported to the listeners (the audit trail), since no route hook runs for it.
 */
export function frameworkErrorHandler(logger: Logger) {
  return (error: Error, request: FastifyRequest, reply: FastifyReply): void => {
    const body = toProblem(error, request, logger);
    sendProblem(reply, body);
    for (const listener of routerRefusalListeners.get(request.server) ?? [])
      listener(request, body.status);
  };
}

const FAILURE = Symbol('lattice.failure');

/** What a request's handling threw, once the filter has answered it (for the audit trail). */
export function failureOf(request: FastifyRequest): unknown {
  return (request as FastifyRequest & { [FAILURE]?: unknown })[FAILURE];
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    (request as FastifyRequest & { [FAILURE]?: unknown })[FAILURE] = exception;
    sendProblem(http.getResponse<FastifyReply>(), toProblem(exception, request, this.logger));
  }
}
