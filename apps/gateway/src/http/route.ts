import {
  HttpCode,
  UsePipes,
  applyDecorators,
  type ArgumentMetadata,
  type PipeTransform,
} from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ErrorCode } from '@lattice/contracts';
import type { z } from 'zod';
import { Access, type RouteAccess } from '../auth/route-access';
import { DocumentedOperation } from './openapi';
import { ZodPipe } from './zod.pipe';

export interface RouteSpec {
  summary: string;
  permission: RouteAccess;
  /** Validates `@Body()`. */
  body?: z.ZodType;
  /** Validates `@Query()`. */
  query?: z.ZodType;
  /** Validates each `@Param(name)`. */
  params?: Record<string, z.ZodType>;
  response: z.ZodType;
  /** The status of a success; 200 unless said. */
  status?: 200 | 201;
  /** Media types of a success that is not JSON (a streamed export). */
  produces?: string[];
  /**
   * The codes the service behind the route answers with. Those the route's own parts imply
   * (authentication, permission, input validation, an unavailable service) are added.
   */
  errors?: ErrorCode[];
}

/** Who calls: the token or key is checked, the tenant in good standing, within its rate. */
const CALLER_ERRORS = [ErrorCode.Unauthenticated, ErrorCode.Forbidden, ErrorCode.RateLimited];
/** Fastify refuses a body too large or not JSON before validation sees it. */
const BODY_ERRORS = [
  ErrorCode.ValidationFailed,
  ErrorCode.PayloadTooLarge,
  ErrorCode.UnsupportedMediaType,
];
/** Every route goes over NATS, in its guards if not its handler. */
const UPSTREAM_ERRORS = [ErrorCode.Unavailable, ErrorCode.Timeout];

/** Every error code a route may answer, from its parts and the service it calls. */
export function errorCodesOf(spec: RouteSpec): ErrorCode[] {
  return [
    ...new Set([
      ...(spec.permission === 'public' ? [] : CALLER_ERRORS),
      ...(spec.body ? BODY_ERRORS : []),
      ...(spec.query || spec.params ? [ErrorCode.ValidationFailed] : []),
      ...(spec.errors ?? []),
      ...UPSTREAM_ERRORS,
    ]),
  ];
}

/** Validates each part of a request with the schema its route declared for it. */
class RouteInputPipe implements PipeTransform {
  private readonly body?: ZodPipe<z.ZodType>;
  private readonly query?: ZodPipe<z.ZodType>;
  private readonly params: Map<string, ZodPipe<z.ZodType>>;

  constructor(spec: Pick<RouteSpec, 'body' | 'query' | 'params'>) {
    if (spec.body) this.body = new ZodPipe(spec.body);
    if (spec.query) this.query = new ZodPipe(spec.query);
    this.params = new Map(
      Object.entries(spec.params ?? {}).map(([name, schema]) => [name, new ZodPipe(schema)]),
    );
  }

  transform(value: unknown, { type, data }: ArgumentMetadata): unknown {
    const pipe =
      type === 'body'
        ? this.body
        : type === 'query'
          ? this.query
          : type === 'param' && data !== undefined
            ? this.params.get(data)
            : undefined;
    return pipe ? pipe.transform(value) : value;
  }
}

/**
 * A handler's arguments and the route's schemas must match one to one: an argument nothing
 * validates, or a schema no argument takes (documented but never checked), fails at load.
 */
function checkArguments(target: object, key: string | symbol, spec: RouteSpec): void {
  const args = Object.entries(
    (Reflect.getMetadata(ROUTE_ARGS_METADATA, target.constructor, key) ?? {}) as Record<
      string,
      { data?: unknown }
    >,
  ).map(([slot, { data }]) => ({ type: Number(slot.split(':')[0]), data }));
  const taken = args.flatMap(({ type, data }) => {
    if (type === RouteParamtypes.BODY) return [data === undefined && spec.body ? 'body' : null];
    if (type === RouteParamtypes.QUERY) return [data === undefined && spec.query ? 'query' : null];
    if (type === RouteParamtypes.PARAM)
      return [typeof data === 'string' && spec.params?.[data] ? `param ${data}` : null];
    return [];
  });
  const declared = [
    ...(spec.body ? ['body'] : []),
    ...(spec.query ? ['query'] : []),
    ...Object.keys(spec.params ?? {}).map((name) => `param ${name}`),
  ];
  const where = `${target.constructor.name}.${String(key)}`;
  if (taken.includes(null))
    throw new Error(`${where}: take the whole @Body()/@Query(), or a @Param the route declares`);
  const unused = declared.filter((part) => !taken.includes(part));
  if (unused.length > 0) throw new Error(`${where}: no argument takes the ${unused.join(', ')}`);
}

/**
 * Everything a gateway route states, once: who may call it, what it takes (validated and
 * documented from the same schemas), what it answers, and the error codes it may answer
 * besides, from which its documented error statuses follow.
 */
export function Route(spec: RouteSpec): MethodDecorator {
  const status = spec.status ?? 200;
  const decorators = applyDecorators(
    Access(spec.permission),
    HttpCode(status),
    UsePipes(new RouteInputPipe(spec)),
    DocumentedOperation({ ...spec, status, errors: errorCodesOf(spec) }),
  );
  return (target, key, descriptor) => {
    checkArguments(target, key, spec);
    decorators(target, key, descriptor);
  };
}
