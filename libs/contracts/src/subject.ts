import type { z } from 'zod';

/** A request/reply subject with the schemas of what it takes and what it answers. */
export interface RpcContract<Req extends z.ZodType, Res extends z.ZodType> {
  readonly subject: string;
  readonly request: Req;
  readonly reply: Res;
}

export function subject<Req extends z.ZodType, Res extends z.ZodType>(
  name: string,
  request: Req,
  reply: Res,
): RpcContract<Req, Res> {
  return Object.freeze({ subject: name, request, reply });
}

/** A JetStream stream: its name and the subjects it keeps. */
export interface StreamDeclaration {
  readonly name: string;
  readonly subjects: readonly string[];
}

export function stream(name: string, subjects: readonly string[]): StreamDeclaration {
  if (subjects.length === 0) throw new Error(`stream ${name} keeps no subject`);
  return Object.freeze({ name, subjects: Object.freeze([...subjects]) });
}

/**
 * A JetStream subject whose messages must not be lost, with the schema of its payload. Each
 * message goes out under `subject.<suffix>` (a tenant, a resource, an event type); `filter`
 * matches them all.
 */
export interface StreamContract<Msg extends z.ZodType> {
  readonly kind: 'stream';
  readonly stream: StreamDeclaration;
  readonly subject: string;
  readonly filter: string;
  readonly message: Msg;
}

export function streamSubject<Msg extends z.ZodType>(
  stream: StreamDeclaration,
  name: string,
  message: Msg,
): StreamContract<Msg> {
  const filter = within(name);
  // a contract outside its stream's subjects would publish into nothing
  if (!stream.subjects.some((kept) => subjectCovers(kept, filter))) {
    throw new Error(`${filter} is not among the subjects of stream ${stream.name}`);
  }
  return Object.freeze({ kind: 'stream', stream, subject: name, filter, message });
}

/**
 * A core-NATS event: told to whoever listens at that moment and kept by nobody, for what a
 * listener can afford to miss (a cache eviction that a TTL also bounds). A suffixed event goes
 * out under `subject.<suffix>` (its type, say), and `filter` hears them all.
 */
export interface EventContract<Msg extends z.ZodType, Suffixed extends boolean = boolean> {
  readonly kind: 'event';
  readonly subject: string;
  readonly suffixed: Suffixed;
  readonly filter: string;
  readonly message: Msg;
}

export function event<Msg extends z.ZodType>(name: string, message: Msg): EventContract<Msg, false>;
export function event<Msg extends z.ZodType>(
  name: string,
  message: Msg,
  options: { suffixed: true },
): EventContract<Msg, true>;
export function event<Msg extends z.ZodType>(
  name: string,
  message: Msg,
  options: { suffixed?: boolean } = {},
): EventContract<Msg> {
  const suffixed = options.suffixed ?? false;
  return Object.freeze({
    kind: 'event',
    subject: name,
    suffixed,
    filter: suffixed ? within(name) : name,
    message,
  });
}

/** Every subject below `name`. */
export function within(name: string): string {
  return `${name}.>`;
}

/** Whether every subject `filter` matches is also matched by `pattern` (NATS wildcards). */
export function subjectCovers(pattern: string, filter: string): boolean {
  const p = pattern.split('.');
  const f = filter.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return f.length > i;
    if (i >= f.length) return false;
    if (p[i] === '*') {
      if (f[i] === '>') return false;
      continue;
    }
    if (p[i] !== f[i]) return false;
  }
  return p.length === f.length;
}

export type RequestOf<C> = C extends RpcContract<infer Req, z.ZodType> ? z.output<Req> : never;
export type ReplyOf<C> = C extends RpcContract<z.ZodType, infer Res> ? z.output<Res> : never;
export type MessageOf<C> = C extends StreamContract<infer Msg> ? z.output<Msg> : never;
export type EventOf<C> = C extends EventContract<infer Msg> ? z.output<Msg> : never;
