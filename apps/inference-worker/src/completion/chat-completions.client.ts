import type { ChatMessage, FinishReason, TokenUsage } from '@lattice/contracts';
import { FINISH_REASONS } from '@lattice/contracts';
import { chatCompletionEvents, type ChatCompletionChunk } from './chat-completion-events';

export interface ChatCompletionRequest {
  model: string;
  messages: readonly ChatMessage[];
  maxTokens: number;
  temperature?: number;
}

export interface ChatCompletionOutcome {
  text: string;
  /** The model as the server named it in its answer. */
  model: string;
  finishReason: FinishReason;
  /** The provider's own count; null when it sent none. */
  usage: TokenUsage | null;
}

/**
 * Why a call failed, as the fallback chain needs to know it: `bad-request` will fail anywhere
 * (the request itself is wrong), `unknown-model` is this endpoint not serving the model, and
 * the rest are the endpoint failing (they count against its breaker).
 */
export type ModelCallFailure =
  | 'bad-request'
  | 'unknown-model'
  | 'overloaded'
  | 'server-error'
  | 'timeout'
  | 'unreachable'
  | 'broken-stream';

export class ModelCallError extends Error {
  override name = 'ModelCallError';

  constructor(
    readonly failure: ModelCallFailure,
    message: string,
    /** The HTTP status, where the server answered with one. */
    readonly status: number | null = null,
  ) {
    super(message);
  }

  /** The endpoint is at fault: the call counts as a failure against its breaker. */
  get endpointFault(): boolean {
    return this.failure !== 'bad-request' && this.failure !== 'unknown-model';
  }
}

export interface CallOptions {
  /** The job's signal: when it fires, the request is aborted and its reason thrown. */
  signal: AbortSignal;
  /** The longest wait for the answer to begin, and then for each next chunk. */
  timeoutMs: number;
  /** Each piece of text as it arrives. */
  onDelta(delta: string): void;
  fetch?: typeof fetch;
}

/** `http://node:8000/v1` and `/chat/completions`, however the base ends. */
export function completionsUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/chat/completions`;
}

const finishReasonOf = (reason: string | null | undefined): FinishReason =>
  (FINISH_REASONS as readonly string[]).includes(reason ?? '')
    ? (reason as FinishReason)
    : 'unknown';

function usageOf(usage: ChatCompletionChunk['usage']): TokenUsage | null {
  if (!usage || typeof usage.prompt_tokens !== 'number') return null;
  const promptTokens = usage.prompt_tokens;
  const completionTokens = usage.completion_tokens ?? 0;
  return {
    promptTokens,
    completionTokens,
    totalTokens: usage.total_tokens ?? promptTokens + completionTokens,
  };
}

async function errorOf(res: Response): Promise<ModelCallError> {
  let message = `${res.status} ${res.statusText}`;
  let code: unknown;
  try {
    const body = (await res.json()) as { error?: { message?: string; code?: unknown } | string };
    const error = body.error;
    if (typeof error === 'string') message = error;
    else if (error?.message) message = error.message;
    code = typeof error === 'object' ? error?.code : undefined;
  } catch {
    // a body that is not JSON says nothing more than the status
  }
  message = `${res.status}: ${message}`.slice(0, 400);
  if (res.status === 404 && (code === 'model_not_found' || /model/i.test(message)))
    return new ModelCallError('unknown-model', message, res.status);
  if (res.status === 400 || res.status === 413 || res.status === 422)
    return new ModelCallError('bad-request', message, res.status);
  if (res.status === 429 || res.status === 503)
    return new ModelCallError('overloaded', message, res.status);
  return new ModelCallError('server-error', message, res.status);
}

/**
 * One streamed chat completion (`POST {endpoint}/chat/completions` with `stream: true` and the
 * usage asked for), each delta handed to `onDelta` as it arrives. Aborting `signal` aborts the
 * HTTP request. A server that answers with one JSON body instead of a stream is read as well.
 */
export async function streamChatCompletion(
  endpoint: string,
  request: ChatCompletionRequest,
  options: CallOptions,
): Promise<ChatCompletionOutcome> {
  const idle = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => idle.abort(new ModelCallError('timeout', `no answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
  };
  const signal = AbortSignal.any([options.signal, idle.signal]);
  const rethrow = (error: unknown): never => {
    if (options.signal.aborted) throw options.signal.reason;
    if (idle.signal.aborted) throw idle.signal.reason;
    throw error;
  };
  arm();
  try {
    let res: Response;
    try {
      res = await (options.fetch ?? fetch)(completionsUrl(endpoint), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({
          model: request.model,
          messages: request.messages,
          max_tokens: request.maxTokens,
          ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
          stream: true,
          stream_options: { include_usage: true },
        }),
        signal,
      });
    } catch (error) {
      return rethrow(
        new ModelCallError('unreachable', `cannot reach ${endpoint}: ${causeOf(error)}`),
      );
    }
    if (!res.ok) throw await errorOf(res).catch(rethrow);
    arm();
    if (!(res.headers.get('content-type') ?? '').includes('text/event-stream'))
      return await readWhole(res, request.model, options).catch(rethrow);
    return await readStream(res, request.model, options, arm).catch(rethrow);
  } finally {
    clearTimeout(timer);
  }
}

async function readWhole(
  res: Response,
  asked: string,
  options: CallOptions,
): Promise<ChatCompletionOutcome> {
  const body = (await res.json()) as {
    model?: string;
    choices?: { message?: { content?: string | null }; finish_reason?: string | null }[];
    usage?: ChatCompletionChunk['usage'];
  };
  const choice = body.choices?.[0];
  if (!choice) throw new ModelCallError('broken-stream', 'the answer holds no choice', res.status);
  const text = choice.message?.content ?? '';
  if (text) options.onDelta(text);
  return {
    text,
    model: body.model ?? asked,
    finishReason: finishReasonOf(choice.finish_reason),
    usage: usageOf(body.usage),
  };
}

async function readStream(
  res: Response,
  asked: string,
  options: CallOptions,
  arm: () => void,
): Promise<ChatCompletionOutcome> {
  if (!res.body) throw new ModelCallError('broken-stream', 'the answer has no body', res.status);
  let text = '';
  let model = asked;
  let finish: string | null = null;
  let usage: TokenUsage | null = null;
  let done = false;
  try {
    for await (const item of chatCompletionEvents(res.body)) {
      arm();
      if (item.type === 'done') {
        done = true;
        break;
      }
      const { chunk } = item;
      if (chunk.error) {
        const message = typeof chunk.error === 'string' ? chunk.error : chunk.error.message;
        throw new ModelCallError(
          'broken-stream',
          `the server failed mid-stream: ${message ?? 'unknown error'}`,
        );
      }
      if (chunk.model) model = chunk.model;
      usage = usageOf(chunk.usage) ?? usage;
      const choice = chunk.choices?.find((c) => (c.index ?? 0) === 0);
      const delta = choice?.delta?.content;
      if (delta) {
        text += delta;
        options.onDelta(delta);
      }
      if (choice?.finish_reason) finish = choice.finish_reason;
    }
  } catch (error) {
    if (error instanceof ModelCallError) throw error;
    throw new ModelCallError(
      'broken-stream',
      `the stream broke off: ${causeOf(error)}`,
      res.status,
    );
  }
  // a server may end without [DONE], but not before it said why the answer ended
  if (!done && finish === null)
    throw new ModelCallError('broken-stream', 'the stream ended before the answer did', res.status);
  return { text, model, finishReason: finishReasonOf(finish), usage };
}

function causeOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`.slice(0, 300);
}
