import type {
  InferenceAttempt,
  InferenceJobPayload,
  InferenceJobResult,
  InferenceStreamChunk,
  TokenUsage,
} from '@lattice/contracts';
import type { Logger } from '@lattice/logging';
import { PermanentJobError } from '@lattice/worker';
import type { EndpointSource, HeldEndpoint, ModelEndpoint } from '../endpoints/model-endpoints';
import type { CircuitBreakers } from './circuit-breaker';
import {
  ModelCallError,
  type CallOptions,
  type ChatCompletionOutcome,
  type ChatCompletionRequest,
} from './chat-completions.client';

/** Calls one endpoint (`streamChatCompletion`, or a fake in tests). */
export type ChatCall = (
  endpoint: string,
  request: ChatCompletionRequest,
  options: Omit<CallOptions, 'fetch' | 'timeoutMs'>,
) => Promise<ChatCompletionOutcome>;

export interface CompletionDeps {
  endpoints: EndpointSource;
  breakers: CircuitBreakers;
  call: ChatCall;
  /** The most endpoints tried for one model before the next model. */
  maxEndpointsPerModel: number;
  now?: () => number;
  logger?: Logger;
  /** Told each attempt as it ends, for metrics. */
  onAttempt?(attempt: InferenceAttempt): void;
}

export interface CompletionJob {
  payload: InferenceJobPayload;
  tenantId: string;
  signal: AbortSignal;
  /** Publishes one chunk of the stream (`payload.stream` set). */
  publish?(chunk: InferenceStreamChunk): void;
}

/** No model of the chain could answer now; worth another attempt later. */
export class NoModelAnsweredError extends Error {
  override name = 'NoModelAnsweredError';
}

/**
 * A rough count where the provider sent none: four characters a token, the usual rule of thumb
 * for English text with GPT-style tokenizers.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * One chat completion through the fallback chain: the payload's models in order, for each the
 * endpoints its source gives (a route from gpu-nodes, then the next after a failure, or the
 * configured ones), skipping an endpoint whose breaker is open. Each delta is published as it
 * arrives. An answer that began to stream and then broke off is not continued by another
 * model: the stream ends with an error and the job fails for good, since its reader has gone.
 * A bad request fails the job for good; so does a chain where no endpoint knows any model.
 */
export async function runCompletion(
  job: CompletionJob,
  deps: CompletionDeps,
): Promise<InferenceJobResult> {
  const now = deps.now ?? Date.now;
  const { payload, signal } = job;
  const attempts: InferenceAttempt[] = [];
  let seq = 0;
  const publish = (chunk: Omit<InferenceStreamChunk, 'seq'>) => {
    if (job.publish) job.publish({ seq: seq++, ...chunk } as InferenceStreamChunk);
  };
  let endpointsSeen = 0;
  let unknownEverywhere = true;

  const record = (attempt: InferenceAttempt) => {
    attempts.push(attempt);
    deps.onAttempt?.(attempt);
  };

  for (const model of payload.models) {
    const tried: ModelEndpoint[] = [];
    let current: HeldEndpoint | null = await deps.endpoints.first({
      model,
      tenantId: job.tenantId,
      tried,
    });
    while (current && tried.length < deps.maxEndpointsPerModel) {
      signal.throwIfAborted();
      const { endpoint } = current;
      tried.push(endpoint);
      endpointsSeen++;
      const breaker = deps.breakers.for(endpoint.url);
      let error: string;
      if (!breaker.tryAcquire()) {
        await current.release();
        unknownEverywhere = false;
        error = 'its circuit breaker is open';
        record(attemptOf(endpoint, 'skipped', null, error, 0));
      } else {
        const started = now();
        let deltas = 0;
        try {
          const outcome = await deps.call(
            endpoint.url,
            {
              model,
              messages: payload.messages,
              maxTokens: payload.maxTokens,
              ...(payload.temperature === undefined ? {} : { temperature: payload.temperature }),
            },
            {
              signal,
              onDelta: (delta) => {
                deltas++;
                publish({ delta });
              },
            },
          );
          breaker.success();
          record(attemptOf(endpoint, 'succeeded', 200, null, now() - started));
          const usage = outcome.usage ?? estimatedUsage(payload, outcome.text);
          publish({ done: true, model: outcome.model, usage, finishReason: outcome.finishReason });
          return {
            text: outcome.text,
            model: outcome.model,
            finishReason: outcome.finishReason,
            usage,
            usageCounted: outcome.usage !== null,
            attempts,
          };
        } catch (thrown) {
          if (signal.aborted) {
            breaker.release();
            throw signal.reason;
          }
          if (!(thrown instanceof ModelCallError)) {
            breaker.release();
            throw thrown;
          }
          if (thrown.endpointFault) breaker.failure();
          else breaker.release();
          error = thrown.message;
          record(attemptOf(endpoint, 'failed', thrown.status, error, now() - started));
          deps.logger?.warn(
            {
              model,
              endpoint: endpoint.url,
              node: endpoint.node,
              failure: thrown.failure,
              err: error,
            },
            'model call failed',
          );
          if (thrown.failure !== 'unknown-model') unknownEverywhere = false;
          if (thrown.failure === 'bad-request') {
            publish({ error: `the model server refused the request: ${error}`.slice(0, 500) });
            throw new PermanentJobError(`the model server refused the request: ${error}`);
          }
          if (deltas > 0) {
            publish({ error: `the answer broke off: ${error}`.slice(0, 500) });
            throw new PermanentJobError(`${model} broke off after it began to answer: ${error}`);
          }
        } finally {
          await current.release();
        }
      }
      current = await deps.endpoints.next(
        { model, tenantId: job.tenantId, tried },
        endpoint,
        error,
      );
    }
  }

  if (endpointsSeen > 0 && unknownEverywhere) {
    const message = `no endpoint serves any of ${payload.models.join(', ')}`;
    publish({ error: message });
    throw new PermanentJobError(message);
  }
  const message =
    endpointsSeen === 0
      ? `no endpoint is known for ${payload.models.join(', ')}`
      : `no model answered: ${attempts.map((a) => `${a.model}@${a.endpoint} ${a.error ?? a.outcome}`).join('; ')}`;
  publish({ error: message.slice(0, 500) });
  throw new NoModelAnsweredError(message.slice(0, 1_500));
}

function attemptOf(
  endpoint: ModelEndpoint,
  outcome: InferenceAttempt['outcome'],
  status: number | null,
  error: string | null,
  durationMs: number,
): InferenceAttempt {
  return {
    model: endpoint.model,
    node: endpoint.node,
    endpoint: endpoint.url,
    outcome,
    status,
    error: error === null ? null : error.slice(0, 500),
    durationMs,
  };
}

function estimatedUsage(payload: InferenceJobPayload, text: string): TokenUsage {
  const promptTokens = payload.messages.reduce((n, m) => n + estimateTokens(m.content) + 3, 3);
  const completionTokens = estimateTokens(text);
  return { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}
