import type { HTTPMethods } from 'fastify';

/** A route's own hooks of one kind, as a list (Fastify takes one or several). */
export const routeHooks = <T>(declared: T | T[] | undefined): T[] =>
  declared === undefined ? [] : Array.isArray(declared) ? declared : [declared];

const BODYLESS = new Set(['GET', 'HEAD']);

/** Whether a route takes a request body: Fastify reads none for GET and HEAD. */
export const takesBody = (method: HTTPMethods | HTTPMethods[]): boolean =>
  routeHooks(method).some((m) => !BODYLESS.has(m.toUpperCase()));
