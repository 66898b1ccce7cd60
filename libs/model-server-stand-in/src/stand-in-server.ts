import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@lattice/logging';
import { countStandInTokens, groundedAnswer, streamPieces, type ChatTurn } from './grounded-answer';
import { parseFailure, type StandInFailure } from './stand-in-failure';

/** Every response says what answered: a stand-in, not a model. */
export const STAND_IN_FINGERPRINT = 'lattice-model-server-stand-in';
/** The models it serves unless told otherwise. */
export const STAND_IN_MODELS = ['stand-in-small', 'stand-in-large'];
/** A request header that makes this one request fail (see `parseFailure`). */
export const FAIL_HEADER = 'x-stand-in-fail';

export interface StandInOptions {
  port?: number;
  host?: string;
  /** Model names it answers for; any other is 404 `model_not_found`. */
  models?: readonly string[];
  /** Failures per model (`*` for all), as `setFailure` sets them. */
  failures?: ReadonlyMap<string, StandInFailure>;
  /** A pause between streamed deltas, so a stream takes a while as a real one does. */
  tokenDelayMs?: number;
  logger?: Logger;
}

export type StandInOutcome =
  'answered' | 'failed' | 'cut' | 'client-closed' | 'unknown-model' | 'bad-request';

/** One call the stand-in received, and how it ended. */
export interface StandInCall {
  id: string;
  model: string | null;
  stream: boolean;
  outcome: StandInOutcome | 'in-progress';
  status: number;
  /** The messages it was sent, so a test can say what reached the model (and what did not). */
  messages: readonly ChatTurn[];
}

export interface RunningStandIn {
  /** `http://host:port/v1`, as a route or a configured endpoint names it. */
  url: string;
  port: number;
  /** The calls received so far, oldest first. */
  readonly calls: readonly StandInCall[];
  /** Makes calls for `model` (`*`: every model) fail as told; `null` heals it. */
  setFailure(model: string, failure: StandInFailure | string | null): void;
  /** Heals every model. */
  clearFailures(): void;
  close(): Promise<void>;
}

interface ChatRequest {
  model: string;
  messages: ChatTurn[];
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number | null;
}

class BadRequest extends Error {}

function readChatRequest(body: unknown): ChatRequest {
  if (!body || typeof body !== 'object') throw new BadRequest('the body is not a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || b.model === '') throw new BadRequest('model is required');
  if (!Array.isArray(b.messages) || b.messages.length === 0)
    throw new BadRequest('messages must be a non-empty array');
  const messages = b.messages.map((m: unknown, i) => {
    const turn = m as Record<string, unknown> | null;
    if (!turn || typeof turn.role !== 'string' || typeof turn.content !== 'string')
      throw new BadRequest(`messages[${i}] needs a role and a string content`);
    return { role: turn.role, content: turn.content };
  });
  const max = b.max_tokens ?? b.max_completion_tokens;
  if (max !== undefined && max !== null && (!Number.isInteger(max) || (max as number) < 1))
    throw new BadRequest('max_tokens must be a positive integer');
  const options = b.stream_options as Record<string, unknown> | undefined;
  return {
    model: b.model,
    messages,
    stream: b.stream === true,
    includeUsage: options?.include_usage === true,
    maxTokens: (max as number | undefined) ?? null,
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, message: string, code: string): void {
  const type =
    status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
  sendJson(res, status, { error: { message, type, param: null, code } });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A stand-in for the model servers Lattice calls (vLLM, TGI, a hosted API): an HTTP server
 * speaking the OpenAI chat-completions protocol (`POST /v1/chat/completions`, JSON or
 * server-sent events with `stream_options.include_usage`, and `GET /v1/models`) that answers
 * from the passages in the messages it is given (`groundedAnswer`). For `npm start` and tests
 * only: its model names and `system_fingerprint` say it is a stand-in.
 */
export async function startModelServerStandIn(
  options: StandInOptions = {},
): Promise<RunningStandIn> {
  const models = options.models ?? STAND_IN_MODELS;
  const failures = new Map(options.failures ?? []);
  const tokenDelayMs = options.tokenDelayMs ?? 0;
  const logger = options.logger;
  const calls: StandInCall[] = [];
  const created = Math.floor(Date.now() / 1000);

  const failureFor = (req: IncomingMessage, model: string): StandInFailure | null => {
    const header = req.headers[FAIL_HEADER];
    if (typeof header === 'string' && header !== '') return parseFailure(header);
    return failures.get(model) ?? failures.get('*') ?? null;
  };

  async function chat(req: IncomingMessage, res: ServerResponse, call: StandInCall) {
    let request: ChatRequest;
    try {
      request = readChatRequest(JSON.parse(await readBody(req)));
    } catch (error) {
      call.outcome = 'bad-request';
      call.status = 400;
      const message =
        error instanceof SyntaxError ? 'the body is not JSON' : (error as Error).message;
      return sendError(res, 400, message, 'invalid_request');
    }
    call.model = request.model;
    call.stream = request.stream;
    call.messages = request.messages;
    if (!models.includes(request.model)) {
      call.outcome = 'unknown-model';
      call.status = 404;
      return sendError(
        res,
        404,
        `The model \`${request.model}\` does not exist.`,
        'model_not_found',
      );
    }
    const failure = failureFor(req, request.model);
    const closed = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) closed.abort();
    });
    if (failure?.kind === 'status') {
      call.outcome = 'failed';
      call.status = failure.status;
      logger?.info({ model: request.model, status: failure.status }, 'stand-in failing as told');
      if (failure.status === 429) res.setHeader('retry-after', '1');
      return sendError(
        res,
        failure.status,
        `stand-in told to fail with ${failure.status}`,
        'stand_in_failure',
      );
    }
    if (failure?.kind === 'slow') {
      logger?.info(
        { model: request.model, delayMs: failure.delayMs },
        'stand-in answering slowly as told',
      );
      if (!(await pause(failure.delayMs, closed.signal))) {
        call.outcome = 'client-closed';
        return;
      }
    }

    const answer = groundedAnswer(request.messages);
    let pieces = streamPieces(answer.text);
    let finishReason = 'stop';
    if (request.maxTokens !== null) {
      const kept: string[] = [];
      let tokens = 0;
      for (const piece of pieces) {
        const n = countStandInTokens(piece);
        if (tokens + n > request.maxTokens) {
          finishReason = 'length';
          break;
        }
        tokens += n;
        kept.push(piece);
      }
      pieces = kept;
    }
    const text = pieces.join('');
    const promptTokens = request.messages.reduce(
      (n, m) => n + 3 + countStandInTokens(m.content),
      3,
    );
    const completionTokens = countStandInTokens(text);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const id = `chatcmpl-standin-${randomUUID()}`;
    const base = {
      id,
      created: Math.floor(Date.now() / 1000),
      model: request.model,
      system_fingerprint: STAND_IN_FINGERPRINT,
    };

    if (!request.stream) {
      call.outcome = 'answered';
      call.status = 200;
      return sendJson(res, 200, {
        ...base,
        object: 'chat.completion',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: text },
            finish_reason: finishReason,
            logprobs: null,
          },
        ],
        usage,
      });
    }

    call.status = 200;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      send({
        ...base,
        object: 'chat.completion.chunk',
        choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
        ...(request.includeUsage ? { usage: null } : {}),
      });
    chunk({ role: 'assistant', content: '' }, null);
    for (const [i, piece] of pieces.entries()) {
      if (failure?.kind === 'cut' && i >= failure.afterChunks) {
        call.outcome = 'cut';
        logger?.info(
          { model: request.model, after: i },
          'stand-in breaking the stream off as told',
        );
        // what was written reaches the caller first, as when a server dies mid-answer
        await new Promise<void>((resolve) => res.write(': cut\n\n', () => resolve()));
        res.socket?.destroy();
        return;
      }
      if (tokenDelayMs > 0 && !(await pause(tokenDelayMs, closed.signal))) break;
      if (closed.signal.aborted) break;
      chunk({ content: piece }, null);
    }
    if (closed.signal.aborted) {
      call.outcome = 'client-closed';
      logger?.info({ model: request.model }, 'the caller closed the stream');
      return;
    }
    chunk({}, finishReason);
    if (request.includeUsage)
      send({ ...base, object: 'chat.completion.chunk', choices: [], usage });
    res.end('data: [DONE]\n\n');
    call.outcome = 'answered';
  }

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/health' || path === '/livez' || path === '/readyz'))
      return sendJson(res, 200, { status: 'ok', standIn: true });
    if (req.method === 'GET' && path === '/v1/models')
      return sendJson(res, 200, {
        object: 'list',
        data: models.map((id) => ({
          id,
          object: 'model',
          created,
          owned_by: STAND_IN_FINGERPRINT,
        })),
      });
    if (path === '/v1/chat/completions') {
      if (req.method !== 'POST') return sendError(res, 405, 'use POST', 'method_not_allowed');
      const call: StandInCall = {
        id: randomUUID(),
        model: null,
        stream: false,
        outcome: 'in-progress',
        status: 0,
        messages: [],
      };
      calls.push(call);
      chat(req, res, call).catch((error: unknown) => {
        logger?.error({ err: error }, 'stand-in failed to answer');
        call.outcome = 'failed';
        if (!res.headersSent) sendError(res, 500, 'the stand-in failed', 'internal');
        else res.destroy();
      });
      return;
    }
    sendError(res, 404, `no route ${req.method} ${path}`, 'not_found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host =
    options.host && options.host !== '0.0.0.0' && options.host !== '::'
      ? options.host
      : '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1`,
    port,
    calls,
    setFailure(model, failure) {
      if (failure === null) failures.delete(model);
      else failures.set(model, typeof failure === 'string' ? parseFailure(failure) : failure);
    },
    clearFailures: () => failures.clear(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Waits `ms`; false when the caller went away first. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
