import type { HTTPMethods } from 'fastify';

/** A route option Fastify takes as one or several (its hooks, its methods), as a list. */
export const listOf = <T>(declared: T | T[] | undefined): T[] =>
  declared === undefined ? [] : Array.isArray(declared) ? declared : [declared];

/** The methods whose requests Fastify reads no body of. */
const BODYLESS = new Set(['GET', 'HEAD', 'TRACE']);

/** Whether a route takes a request body. */
export const takesBody = (method: HTTPMethods | HTTPMethods[]): boolean =>
  listOf(method).some((m) => !BODYLESS.has(m.toUpperCase()));
