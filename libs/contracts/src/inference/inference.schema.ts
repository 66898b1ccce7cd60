import { z } from 'zod';
import { storedText, text } from '../common/text.schema';
import { GpuModelName } from '../gpu/gpu-nodes.schema';
import {
  JOB_PAYLOAD_MAX_BYTES,
  type CreateQueueRequest,
  type SubmitJobRequest,
} from '../scheduler/job.schema';

/*
 * Chat completions as scheduler jobs: what a caller (the RAG service) submits to an inference
 * queue, what the inference worker stores as the job's result, and the chunks it streams while
 * the model writes.
 */

/** The job type an inference worker runs: one chat completion, streamed. */
export const INFERENCE_CHAT_JOB_TYPE = 'chat-completion';

/** Questions people wait on: `interactive` jobs, answered within seconds. */
export const INFERENCE_INTERACTIVE_QUEUE = 'inference-interactive';
/** Generation nobody waits on (summaries of a collection, evaluations). */
export const INFERENCE_BATCH_QUEUE = 'inference-batch';

/**
 * The inference queues as platform operators declare them (`scheduler.v1.queues.create`): the
 * interactive one with a short timeout and few attempts, since its caller is waiting.
 */
export const INFERENCE_QUEUES: readonly CreateQueueRequest[] = [
  {
    name: INFERENCE_INTERACTIVE_QUEUE,
    description: 'Chat completions a caller waits on (RAG answers)',
    workerPool: 'inference-worker',
    maxTenantShare: 0.2,
    defaultTimeoutSeconds: 120,
    defaultMaxAttempts: 2,
    gpusPerJob: 0,
  },
  {
    name: INFERENCE_BATCH_QUEUE,
    description: 'Chat completions nobody waits on',
    workerPool: 'inference-worker',
    maxTenantShare: 0.2,
    defaultTimeoutSeconds: 1800,
    defaultMaxAttempts: 3,
    gpusPerJob: 0,
  },
];

export const CHAT_ROLES = ['system', 'user', 'assistant'] as const;
export const ChatRole = z.enum(CHAT_ROLES);
export type ChatRole = z.infer<typeof ChatRole>;

export const ChatMessage = z
  .object({
    role: ChatRole,
    content: text({ max: JOB_PAYLOAD_MAX_BYTES, multiline: true }),
  })
  .strict();
export type ChatMessage = z.infer<typeof ChatMessage>;

/** Where the deltas of a streamed completion go: below `inference.v1.stream.`. */
export const INFERENCE_STREAM_PREFIX = 'inference.v1.stream';

/** A stream subject: the prefix and one or more tokens (an unguessable id among them). */
export const InferenceStreamSubject = z
  .string()
  .max(200)
  .regex(
    /^inference\.v1\.stream(\.[A-Za-z0-9_-]+)+$/,
    'a subject below inference.v1.stream, like inference.v1.stream.<uuid>',
  );

/** The stream subject of one completion, from an id its caller keeps (a UUID). */
export function inferenceStreamSubject(id: string): string {
  return InferenceStreamSubject.parse(`${INFERENCE_STREAM_PREFIX}.${id}`);
}

export const InferenceJobPayload = z
  .object({
    messages: z.array(ChatMessage).min(1).max(200),
    /** The models to try, in order of preference: the next one when one fails. */
    models: z.array(GpuModelName).min(1).max(8),
    maxTokens: z.number().int().min(1).max(8_192),
    temperature: z.number().min(0).max(2).optional(),
    /** When set, each delta is published to this subject as it arrives. */
    stream: z.object({ subject: InferenceStreamSubject }).strict().optional(),
  })
  .strict();
export type InferenceJobPayload = z.infer<typeof InferenceJobPayload>;

export const TokenUsage = z.object({
  promptTokens: z.number().int().min(0),
  completionTokens: z.number().int().min(0),
  totalTokens: z.number().int().min(0),
});
export type TokenUsage = z.infer<typeof TokenUsage>;

export const INFERENCE_ATTEMPT_OUTCOMES = [
  'succeeded',
  /** The model server answered with an error, timed out or broke off. */
  'failed',
  /** The endpoint's circuit breaker was open: it was not called. */
  'skipped',
] as const;

/** One call (or skipped call) the worker made for a completion. */
export const InferenceAttempt = z.object({
  model: storedText(200),
  /** The node gpu-nodes routed to, or null for a configured endpoint. */
  node: storedText(253).nullable(),
  endpoint: storedText(2_000),
  outcome: z.enum(INFERENCE_ATTEMPT_OUTCOMES),
  /** The HTTP status the model server answered with, where it answered. */
  status: z.number().int().nullable(),
  error: storedText(500).nullable(),
  durationMs: z.number().min(0),
});
export type InferenceAttempt = z.infer<typeof InferenceAttempt>;

export const FINISH_REASONS = [
  'stop',
  'length',
  'content_filter',
  'tool_calls',
  'unknown',
] as const;
export const FinishReason = z.enum(FINISH_REASONS);
export type FinishReason = z.infer<typeof FinishReason>;

/** The job's result: the text, the model that wrote it, and the provider's own token count. */
export const InferenceJobResult = z.object({
  text: storedText(JOB_PAYLOAD_MAX_BYTES),
  model: storedText(200),
  finishReason: FinishReason,
  usage: TokenUsage,
  /** Whether `usage` is the provider's count (false: the server sent none, and it is estimated). */
  usageCounted: z.boolean(),
  attempts: z.array(InferenceAttempt).max(64),
});
export type InferenceJobResult = z.infer<typeof InferenceJobResult>;

/**
 * One message on a completion's stream subject: deltas numbered from 0 in the order the model
 * wrote them, then one final chunk, `done` or `error`. A delta is never repeated: when a model
 * fails after it began to stream, the stream ends with an error rather than mixing two models.
 */
export const InferenceStreamChunk = z.union([
  z.object({ seq: z.number().int().min(0), delta: storedText(JOB_PAYLOAD_MAX_BYTES) }).strict(),
  z
    .object({
      seq: z.number().int().min(0),
      done: z.literal(true),
      model: storedText(200),
      usage: TokenUsage,
      finishReason: FinishReason,
    })
    .strict(),
  z.object({ seq: z.number().int().min(0), error: storedText(500) }).strict(),
]);
export type InferenceStreamChunk = z.infer<typeof InferenceStreamChunk>;

/**
 * The scheduler submission of a chat completion a caller waits on: an `interactive` job on the
 * interactive inference queue, so fair share applies to answers too. One attempt by default:
 * a retry after the caller stopped listening would answer nobody.
 */
export function interactiveInferenceJob(
  payload: InferenceJobPayload,
  options: { timeoutSeconds?: number; maxAttempts?: number; idempotencyKey?: string } = {},
): SubmitJobRequest {
  return {
    queue: INFERENCE_INTERACTIVE_QUEUE,
    type: INFERENCE_CHAT_JOB_TYPE,
    payload,
    priority: 'interactive',
    maxAttempts: options.maxAttempts ?? 1,
    labels: {},
    ...(options.timeoutSeconds ? { timeoutSeconds: options.timeoutSeconds } : {}),
    ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
  };
}
