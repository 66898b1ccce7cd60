import { RateLimiterMemory, RateLimiterQueue } from 'rate-limiter-flexible';
import { z } from 'zod';
import { countTokens as cl100kTokens, type CountTokens } from '../tokens/tokenizer';
import { planBatches, type BatchLimits } from './embedding-batches';
import {
  EmbeddingError,
  normalize,
  throwIfAborted,
  type EmbeddingProvider,
} from './embedding-provider';
import { parseRetryAfter, retryDelayMs, type RetryPolicy } from './retry-policy';

export interface OpenAiCompatibleOptions {
  /** Where the server is; requests go to `{baseUrl}/v1/embeddings` (a trailing `/v1` is fine). */
  baseUrl: string;
  model: string;
  /** The vector size the model gives; every answer is checked against it. */
  dimension: number;
  /** Sent as `Authorization: Bearer ...`; servers on a private network may need none. */
  apiKey?: string;
  /**
   * Sent as the request's `dimensions` (models that can shorten their vectors, such as
   * text-embedding-3); off by default, since other servers may refuse the field.
   */
  requestDimensions?: boolean;
  batch?: Partial<BatchLimits>;
  retry?: Partial<RetryPolicy>;
  /** One request's limit; a request that passes it is retried like a 5xx. */
  timeoutMs?: number;
  /** Client-side limits, so one busy ingest does not earn the whole platform 429s. */
  rateLimit?: {
    /** Requests per window. */
    requests?: number;
    /** Tokens (of `countTokens`) per window. */
    tokens?: number;
    /** Default 60. */
    windowSeconds?: number;
  };
  countTokens?: CountTokens;
  /** For tests: the waits between attempts and the jitter. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  fetch?: typeof fetch;
}

/** The defaults suit TEI's and vLLM's defaults and OpenAI's limits alike. */
export const OPENAI_COMPATIBLE_DEFAULTS = {
  batch: { maxInputs: 64, maxTokens: 16_384, maxInputTokens: 8_191 },
  retry: { maxRetries: 5, baseDelayMs: 500, maxDelayMs: 30_000 },
  timeoutMs: 30_000,
} as const;

const EmbeddingsResponse = z.object({
  data: z
    .array(
      z.object({
        index: z.number().int().nonnegative(),
        embedding: z.union([z.array(z.number()), z.string()]),
      }),
    )
    .min(1),
  model: z.string().optional(),
});

/**
 * A client of the OpenAI embeddings protocol (`POST /v1/embeddings`), which OpenAI, TEI, vLLM,
 * Ollama and most hosted APIs speak. Texts go in batches within count and token limits; 429 and
 * 5xx answers and timeouts are retried with exponential back-off and full jitter, honouring
 * `Retry-After`; a client-side rate limit holds requests back before the server has to.
 */
export class OpenAiCompatibleEmbeddingProvider implements EmbeddingProvider {
  readonly model: string;
  readonly dimension: number;
  private readonly url: string;
  private readonly batch: BatchLimits;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly countTokens: CountTokens;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly fetch: typeof fetch;
  private readonly requestQueue?: RateLimiterQueue;
  private readonly tokenQueue?: RateLimiterQueue;
  private readonly tokensPerWindow?: number;

  constructor(private readonly options: OpenAiCompatibleOptions) {
    this.model = options.model;
    this.dimension = options.dimension;
    this.url = `${options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '')}/v1/embeddings`;
    this.batch = { ...OPENAI_COMPATIBLE_DEFAULTS.batch, ...options.batch };
    this.retry = { ...OPENAI_COMPATIBLE_DEFAULTS.retry, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? OPENAI_COMPATIBLE_DEFAULTS.timeoutMs;
    this.countTokens = options.countTokens ?? cl100kTokens;
    this.sleep = options.sleep ?? sleep;
    this.random = options.random ?? Math.random;
    this.fetch = options.fetch ?? fetch;
    const { requests, tokens, windowSeconds = 60 } = options.rateLimit ?? {};
    if (requests) {
      this.requestQueue = new RateLimiterQueue(
        new RateLimiterMemory({ points: requests, duration: windowSeconds }),
      );
    }
    if (tokens) {
      this.tokensPerWindow = tokens;
      this.tokenQueue = new RateLimiterQueue(
        new RateLimiterMemory({ points: tokens, duration: windowSeconds }),
      );
    }
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    throwIfAborted(signal);
    const vectors = new Array<number[]>(texts.length);
    for (const batch of planBatches(texts, this.batch, this.countTokens)) {
      const batchVectors = await this.embedBatch(batch.texts, batch.tokens, signal);
      batch.indices.forEach((index, i) => (vectors[index] = batchVectors[i]));
    }
    return vectors;
  }

  private async embedBatch(
    texts: string[],
    tokens: number,
    signal: AbortSignal | undefined,
  ): Promise<number[][]> {
    for (let attempt = 0; ; attempt++) {
      await this.waitForRateLimit(tokens, signal);
      const outcome = await this.attempt(texts, signal);
      if ('vectors' in outcome) return outcome.vectors;
      if (attempt >= this.retry.maxRetries) throw outcome.error;
      await this.sleep(
        retryDelayMs(attempt + 1, this.retry, outcome.retryAfterMs, this.random),
        signal,
      ).catch(() => throwIfAborted(signal));
      throwIfAborted(signal);
    }
  }

  /** One request: the vectors, or a retryable error with the server's requested wait. */
  private async attempt(
    texts: string[],
    signal: AbortSignal | undefined,
  ): Promise<{ vectors: number[][] } | { error: EmbeddingError; retryAfterMs?: number }> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: Response;
    let body: string;
    try {
      response = await this.fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: this.model,
          input: texts,
          encoding_format: 'float',
          ...(this.options.requestDimensions ? { dimensions: this.dimension } : {}),
        }),
        signal: combined,
      });
      body = await response.text();
    } catch {
      throwIfAborted(signal);
      if (timeout.aborted) {
        return {
          error: new EmbeddingError(
            'timeout',
            `no answer from ${this.url} in ${this.timeoutMs} ms`,
          ),
        };
      }
      return { error: new EmbeddingError('unavailable', `${this.url} could not be reached`) };
    }

    if (response.ok) return { vectors: this.readVectors(body, texts.length) };
    const status = response.status;
    const detail = errorMessage(body);
    const retryAfterMs = parseRetryAfter(response.headers, Date.now());
    if (status === 429) {
      return {
        error: new EmbeddingError(
          'rate_limited',
          `rate limited by the provider: ${detail}`,
          status,
        ),
        retryAfterMs,
      };
    }
    if (status >= 500 || status === 408) {
      return {
        error: new EmbeddingError(
          'unavailable',
          `the provider failed (${status}): ${detail}`,
          status,
        ),
        retryAfterMs,
      };
    }
    // any other 4xx will not change on a retry
    throw new EmbeddingError(
      status === 401 || status === 403
        ? 'unauthorized'
        : status === 404
          ? 'model_not_found'
          : 'invalid_input',
      `the provider refused the request (${status}): ${detail}`,
      status,
    );
  }

  private readVectors(body: string, expected: number): number[][] {
    let parsed: z.infer<typeof EmbeddingsResponse>;
    try {
      parsed = EmbeddingsResponse.parse(JSON.parse(body));
    } catch {
      throw new EmbeddingError('invalid_response', 'the provider answered with no embeddings list');
    }
    const vectors = new Array<number[] | undefined>(expected);
    for (const item of parsed.data) {
      const vector =
        typeof item.embedding === 'string' ? fromBase64(item.embedding) : item.embedding;
      if (item.index >= expected || vectors[item.index]) {
        throw new EmbeddingError(
          'invalid_response',
          `the provider answered an unknown index ${item.index}`,
        );
      }
      if (vector.length !== this.dimension) {
        throw new EmbeddingError(
          'invalid_response',
          `the provider answered ${vector.length} dimensions; ${this.model} is configured with ${this.dimension}`,
        );
      }
      if (!vector.every(Number.isFinite)) {
        throw new EmbeddingError(
          'invalid_response',
          'the provider answered a vector with non-numbers',
        );
      }
      vectors[item.index] = normalize(vector);
    }
    if (parsed.data.length !== expected) {
      throw new EmbeddingError(
        'invalid_response',
        `the provider answered ${parsed.data.length} embeddings for ${expected} texts`,
      );
    }
    return vectors as number[][];
  }

  private async waitForRateLimit(tokens: number, signal: AbortSignal | undefined): Promise<void> {
    const waits: Promise<unknown>[] = [];
    if (this.requestQueue) waits.push(this.requestQueue.removeTokens(1));
    if (this.tokenQueue && this.tokensPerWindow) {
      // a batch larger than the whole window's allowance waits for a full window, no more
      waits.push(this.tokenQueue.removeTokens(Math.min(Math.max(tokens, 1), this.tokensPerWindow)));
    }
    if (waits.length === 0) return;
    await abortable(Promise.all(waits), signal);
  }
}

function errorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as {
      error?: { message?: unknown } | string;
      message?: unknown;
    };
    const message =
      typeof parsed.error === 'string'
        ? parsed.error
        : (parsed.error?.message ?? parsed.message ?? body);
    return String(message).slice(0, 300);
  } catch {
    return body.slice(0, 300) || '(no body)';
  }
}

/** `encoding_format: base64`: little-endian float32s. */
function fromBase64(data: string): number[] {
  const bytes = Buffer.from(data, 'base64');
  const floats = new Float32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / 4));
  return Array.from(floats);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  throwIfAborted(signal);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new EmbeddingError('aborted', 'the embedding was cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
