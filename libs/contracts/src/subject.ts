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

/** A JetStream subject whose messages must not be lost, with the schema of its payload. */
export interface StreamContract<Msg extends z.ZodType> {
  readonly stream: string;
  readonly subject: string;
  readonly message: Msg;
}

export function streamSubject<Msg extends z.ZodType>(
  stream: string,
  name: string,
  message: Msg,
): StreamContract<Msg> {
  return Object.freeze({ stream, subject: name, message });
}

export type RequestOf<C> = C extends RpcContract<infer Req, z.ZodType> ? z.output<Req> : never;
export type ReplyOf<C> = C extends RpcContract<z.ZodType, infer Res> ? z.output<Res> : never;
export type MessageOf<C> = C extends StreamContract<infer Msg> ? z.output<Msg> : never;
