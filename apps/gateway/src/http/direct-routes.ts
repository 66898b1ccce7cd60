import type {
  ArgumentMetadata,
  CanActivate,
  ExceptionFilter,
  INestApplication,
  INestApplicationContext,
  PipeTransform,
  Type,
} from '@nestjs/common';
import { ForbiddenException, RequestMethod } from '@nestjs/common';
import {
  CUSTOM_ROUTE_ARGS_METADATA,
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  HEADERS_METADATA,
  HTTP_CODE_METADATA,
  INTERCEPTORS_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
  PIPES_METADATA,
  REDIRECT_METADATA,
  RENDER_METADATA,
  RESPONSE_PASSTHROUGH_METADATA,
  ROUTE_ARGS_METADATA,
  SSE_METADATA,
  VERSION_METADATA,
} from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer, Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { PUBLIC_ROUTE } from '@lattice/service-runtime';
import fastify, {
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';

/** How the gateway's routes are served: what runs around every handler. */
export interface DirectRouteOptions {
  /**
   * Who is calling and whether they may (authentication, the tenant's standing, its rate), in
   * order, before the handler of every route but the public ones: a public route has no
   * caller to check.
   */
  callerChecks: CanActivate[];
  /** Answers whatever a check, an input pipe or a handler throws. */
  filter: ExceptionFilter;
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
type Extract = (
  request: FastifyRequest,
  reply: FastifyReply,
  context: ExecutionContextHost,
) => unknown;

interface Argument {
  index: number;
  extract: Extract;
  /** The reply itself: the handler may answer through it. */
  reply?: true;
  /** What the route's pipes are told of the argument; none for the request or the reply. */
  metadata?: ArgumentMetadata;
}

/** The Nest metadata no route of the gateway uses, which the dispatch below does not honour. */
const UNSUPPORTED = [
  [GUARDS_METADATA, '@UseGuards (a caller check belongs in callerChecks)'],
  [INTERCEPTORS_METADATA, '@UseInterceptors'],
  [EXCEPTION_FILTERS_METADATA, '@UseFilters'],
  [SSE_METADATA, '@Sse (stream through the reply)'],
  [REDIRECT_METADATA, '@Redirect'],
  [RENDER_METADATA, '@Render'],
  [VERSION_METADATA, 'versioning'],
] as const;

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  value !== null &&
  (typeof value === 'object' || typeof value === 'function') &&
  typeof (value as { then?: unknown }).then === 'function';

const joinPath = (...parts: string[]): string => {
  const path = parts
    .flatMap((part) => part.split('/'))
    .filter((segment) => segment !== '')
    .join('/');
  return `/${path}`;
};

const routeKey = (method: string, path: string) => `${method} ${path}`;

/**
 * Serves the application's controllers from Fastify's router, each route with a handler made
 * once for it: the caller checks (not for a public route), the route's input pipes, the
 * handler, its status and headers, and the exception filter, with nothing decided per request
 * that the route's declaration already decides. Nest still builds the application (modules,
 * injection, the OpenAPI document) and registers every route; the adapter below then hands
 * Fastify this handler in place of Nest's per-request context and consumers, which cost as
 * much as the rest of a cached read. Anything a route declares that this does not honour
 * (guards, interceptors or filters of its own, `@Sse`, `@Redirect`, versions) fails at start.
 */
export class DirectRoutes {
  private readonly handlers = new Map<string, Handler>();
  private readonly served = new Set<string>();

  constructor(app: INestApplicationContext, options: DirectRouteOptions) {
    const reflector = app.get(Reflector);
    for (const module of app.get(ModulesContainer).values()) {
      for (const wrapper of module.controllers.values()) {
        const instance = wrapper.instance as object | undefined;
        const controller = wrapper.metatype as Type | null;
        if (!instance || !controller) continue;
        for (const name of Object.getOwnPropertyNames(controller.prototype)) {
          const method = (controller.prototype as Record<string, unknown>)[name];
          if (name === 'constructor' || typeof method !== 'function') continue;
          const verb = Reflect.getMetadata(METHOD_METADATA, method) as RequestMethod | undefined;
          if (verb === undefined) continue;
          const where = `${controller.name}.${name}`;
          for (const path of this.pathsOf(controller, method)) {
            const key = routeKey(RequestMethod[verb], path);
            if (this.handlers.has(key)) throw new Error(`${where}: ${key} is declared twice`);
            this.handlers.set(
              key,
              this.compile(where, { instance, controller, name, method, reflector, options }),
            );
          }
        }
      }
    }
  }

  /** The handler for a route Nest registers; a route with none is a route this cannot serve. */
  handlerFor(method: string, path: string): Handler {
    const key = routeKey(method, path);
    const handler = this.handlers.get(key);
    if (!handler) throw new Error(`${key}: registered by Nest, but no controller declares it`);
    this.served.add(key);
    return handler;
  }

  /** After Nest registered its routes: a declared route it did not register is an error. */
  checkAllServed(): void {
    const missed = [...this.handlers.keys()].filter((key) => !this.served.has(key));
    if (missed.length > 0) throw new Error(`declared but never registered: ${missed.join(', ')}`);
  }

  private pathsOf(controller: Type, method: object): string[] {
    const list = (value: unknown): string[] =>
      value === undefined ? [''] : Array.isArray(value) ? (value as string[]) : [value as string];
    return list(Reflect.getMetadata(PATH_METADATA, controller)).flatMap((base) =>
      list(Reflect.getMetadata(PATH_METADATA, method)).map((own) => joinPath(base, own)),
    );
  }

  private compile(
    where: string,
    route: {
      instance: object;
      controller: Type;
      name: string;
      method: Function;
      reflector: Reflector;
      options: DirectRouteOptions;
    },
  ): Handler {
    const { instance, controller, name, method, reflector, options } = route;
    for (const [key, what] of UNSUPPORTED) {
      const declared = [
        Reflect.getMetadata(key, method) as unknown,
        Reflect.getMetadata(key, controller) as unknown,
      ].some((value) => value !== undefined && !(Array.isArray(value) && value.length === 0));
      if (declared) throw new Error(`${where}: ${what} is not served by the gateway's routes`);
    }
    const checks = reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [method, controller])
      ? []
      : options.callerChecks;
    const pipes = [
      ...((Reflect.getMetadata(PIPES_METADATA, controller) as unknown[] | undefined) ?? []),
      ...((Reflect.getMetadata(PIPES_METADATA, method) as unknown[] | undefined) ?? []),
    ].map((pipe) => pipeInstance(where, pipe));
    const args = argumentsOf(where, controller, name);
    // as Nest does: a handler taking the reply answers through it, unless it says passthrough
    const sends =
      !args.some((arg) => arg.reply) ||
      Reflect.getMetadata(RESPONSE_PASSTHROUGH_METADATA, controller, name) === true;
    const status =
      (Reflect.getMetadata(HTTP_CODE_METADATA, method) as number | undefined) ??
      (Reflect.getMetadata(METHOD_METADATA, method) === RequestMethod.POST ? 201 : 200);
    const headers =
      (Reflect.getMetadata(HEADERS_METADATA, method) as
        { name: string; value: string | (() => string) }[] | undefined) ?? [];
    const argsLength = args.reduce((n, arg) => Math.max(n, arg.index + 1), 0);
    const { filter } = options;

    return async (request, reply) => {
      const context = new ExecutionContextHost([request, reply, undefined], controller, method);
      try {
        for (const check of checks) {
          const allowed = check.canActivate(context);
          // only a plain yes lets a caller through: anything else (an Observable included) is no
          if ((isThenable(allowed) ? await allowed : allowed) !== true)
            throw new ForbiddenException('Forbidden resource');
        }
        void reply.code(status);
        for (const header of headers)
          void reply.header(
            header.name,
            typeof header.value === 'function' ? header.value() : header.value,
          );
        const values = new Array<unknown>(argsLength);
        for (const arg of args) {
          let value = arg.extract(request, reply, context);
          if (arg.metadata)
            for (const pipe of pipes) {
              value = pipe.transform(value, arg.metadata);
              if (isThenable(value)) value = await value;
            }
          values[arg.index] = value;
        }
        let result = method.apply(instance, values) as unknown;
        if (isThenable(result)) result = await result;
        if (sends) void reply.send(result);
      } catch (error) {
        filter.catch(error, context);
      }
    };
  }
}

function pipeInstance(where: string, pipe: unknown): PipeTransform {
  if (pipe && typeof (pipe as PipeTransform).transform === 'function') return pipe as PipeTransform;
  throw new Error(`${where}: pipes are given as instances, not classes to inject`);
}

/** How each argument of a handler is had from its request, as its decorators say. */
function argumentsOf(where: string, controller: Type, name: string): Argument[] {
  const metadata = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<
    string,
    {
      index: number;
      data?: unknown;
      pipes?: unknown[];
      factory?: (data: unknown, context: ExecutionContextHost) => unknown;
    }
  >;
  const types = (Reflect.getMetadata('design:paramtypes', controller.prototype, name) ?? []) as (
    Type | undefined
  )[];
  return Object.entries(metadata).map(([key, { index, data, pipes: own, factory }]) => {
    if (own && own.length > 0) throw new Error(`${where}: pipes on one argument are not served`);
    const metatype = types[index];
    if (key.includes(CUSTOM_ROUTE_ARGS_METADATA)) {
      const make = factory!;
      return {
        index,
        extract: (_request, _reply, context) => make(data, context),
        metadata: { type: 'custom', data: data as string | undefined, metatype },
      };
    }
    const type = Number(key.split(':')[0]) as RouteParamtypes;
    const field = typeof data === 'string' ? data : undefined;
    /** A part of the request (the whole, or the field the decorator names), for the pipes. */
    const piped = (
      pipeType: 'body' | 'query' | 'param',
      whole: (request: FastifyRequest) => unknown,
    ): Argument => ({
      index,
      extract:
        field === undefined
          ? whole
          : (request) => (whole(request) as Record<string, unknown> | undefined)?.[field],
      metadata: { type: pipeType, data: field, metatype },
    });
    switch (type) {
      case RouteParamtypes.REQUEST:
        return { index, extract: (request) => request };
      case RouteParamtypes.RESPONSE:
        return { index, extract: (_request, reply) => reply, reply: true };
      case RouteParamtypes.BODY:
        return piped('body', (request) => request.body);
      case RouteParamtypes.QUERY:
        return piped('query', (request) => request.query);
      case RouteParamtypes.PARAM:
        return piped('param', (request) => request.params);
      case RouteParamtypes.HEADERS:
        return {
          index,
          extract:
            field === undefined
              ? (request) => request.headers
              : (request) => request.headers[field.toLowerCase()],
        };
      case RouteParamtypes.NEXT:
      case RouteParamtypes.SESSION:
      case RouteParamtypes.FILE:
      case RouteParamtypes.FILES:
      case RouteParamtypes.HOST:
      case RouteParamtypes.IP:
      case RouteParamtypes.RAW_BODY:
      case RouteParamtypes.ACK:
        throw new Error(`${where}: argument ${index} (${RouteParamtypes[type]}) is not served`);
    }
  });
}

/** The hooks Nest's Fastify adapter adds as it is made, for features the gateway does not use. */
const ADAPTER_HOOKS = ['onRequest', 'onRequest', 'onRequest', 'onRequest', 'onResponse'];

/**
 * Nest's Fastify adapter, registering each route Nest's router resolves with the handler
 * `DirectRoutes` made for it. Routes registered outside `init` (the OpenAPI document's) are
 * registered as given.
 *
 * It also leaves out the five hooks the adapter adds to every request, all for features the
 * gateway does not use: Nest middleware (which it does not load), CORS, the check that
 * middleware could match a request's target, custom versioning, and a response hook of Nest's
 * own. Each is a function call per request that only finds it has nothing to do; together they
 * cost more than a tenth of `/livez`. Asking for any of those features fails outright, rather
 * than being quietly ignored, and so does an adapter that adds hooks other than these.
 */
export class DirectRoutesAdapter extends FastifyAdapter {
  private routes?: DirectRoutes;

  constructor(options: FastifyServerOptions = {}) {
    const instance = fastify(options);
    const addHook = instance.addHook;
    const dropped: string[] = [];
    instance.addHook = ((name: string) => {
      dropped.push(name);
      return instance;
    }) as typeof instance.addHook;
    // the adapter registers no Nest middleware (`@fastify/middie`) on an instance saying so
    super(Object.assign(instance, { skipMiddie: true }));
    instance.addHook = addHook;
    if (dropped.join() !== ADAPTER_HOOKS.join())
      throw new Error(
        `Nest's Fastify adapter added the hooks ${dropped.join(', ')}, not those this knows ` +
          `(${ADAPTER_HOOKS.join(', ')}): check what they are for before leaving them out`,
      );
  }

  override enableCors(): never {
    throw new Error('the gateway serves no CORS (its adapter leaves out the hook)');
  }
  override setOnRequestHook(): never {
    throw new Error('the gateway runs no Nest request hook (its adapter leaves it out)');
  }
  override setOnResponseHook(): never {
    throw new Error('the gateway runs no Nest response hook (its adapter leaves it out)');
  }

  /** Initialises the application, its routes served by `routes`; each declared route once. */
  async initWith(app: INestApplication, routes: DirectRoutes): Promise<void> {
    this.routes = routes;
    try {
      await app.init();
      routes.checkAllServed();
    } finally {
      this.routes = undefined;
    }
  }

  private direct(method: string, args: unknown[]): unknown[] {
    if (!this.routes) return args;
    const [path, handler] = args as [unknown, { version?: unknown }];
    if (args.length !== 2 || typeof path !== 'string')
      throw new Error(`${method}: only a path and a handler are served`);
    if (handler.version !== undefined)
      throw new Error(`${method} ${path}: versions are not served`);
    return [path, this.routes.handlerFor(method, path)];
  }

  override get(...args: unknown[]) {
    return super.get(...this.direct('GET', args));
  }
  override post(...args: unknown[]) {
    return super.post(...this.direct('POST', args));
  }
  override put(...args: unknown[]) {
    return super.put(...this.direct('PUT', args));
  }
  override patch(...args: unknown[]) {
    return super.patch(...this.direct('PATCH', args));
  }
  override delete(...args: unknown[]) {
    return super.delete(...this.direct('DELETE', args));
  }
}
