import { z } from 'zod';
import { Uuid } from '../common/common.schema';
import { storedText, text } from '../common/text.schema';
import { GpuModelName } from '../gpu/gpu-nodes.schema';
import { FinishReason, TokenUsage } from '../inference/inference.schema';

/*
 * Asking a collection a question: the answer a model writes from the passages retrieved for it,
 * with citations; the tokens it cost, estimated before and counted by the provider after.
 */

/** The longest question taken, in characters; a longer one is refused before anything runs. */
export const QUESTION_MAX_CHARS = 2_000;
/** The most passages retrieved for one answer. */
export const QUERY_MAX_TOP_K = 20;
/** The most tokens an answer may be given. */
export const ANSWER_MAX_TOKENS = 4_096;

/** What `details.reason` says beside the error code when a question or answer is refused. */
export const RagQueryRefusal = {
  /** The question looks like a prompt injection (CONTENT_REFUSED). */
  PromptInjection: 'prompt_injection',
  /** The model's answer shows signs that an injection worked (CONTENT_REFUSED). */
  UnsafeAnswer: 'unsafe_answer',
  /** The question and its prompt do not fit the context budget (VALIDATION_FAILED). */
  QuestionTooLong: 'question_too_long',
} as const;

/** The question as the gateway takes it. */
export const RagQueryBody = z
  .object({
    /** The collection to answer from. */
    collection: Uuid,
    question: text({ min: 1, max: QUESTION_MAX_CHARS, multiline: true, trim: true }),
    /** Passages to retrieve (fewer may fit the context budget). */
    topK: z.number().int().min(1).max(QUERY_MAX_TOP_K).default(5),
    /** The most tokens the answer may take. */
    maxTokens: z.number().int().min(1).max(ANSWER_MAX_TOKENS).default(512),
    /** The model to ask first; the service's fallback chain follows it. */
    model: GpuModelName.optional(),
    /** Answer as server-sent events: citations, then deltas, then usage. */
    stream: z.boolean().default(false),
    /** The tenant a platform administrator asks in; a tenant's callers leave it out. */
    tenantId: Uuid.optional(),
  })
  .strict();
export type RagQueryBody = z.infer<typeof RagQueryBody>;

/** `rag.v1.answer-stream.<id>`: where the service relays a streamed answer to the gateway. */
export const RAG_ANSWER_STREAM_PREFIX = 'rag.v1.answer-stream';

export const RagQueryRequest = RagQueryBody.omit({ stream: true })
  .extend({
    /** When set, the answer is relayed as it is written to `rag.v1.answer-stream.<streamId>`. */
    streamId: Uuid.optional(),
  })
  .strict();
export type RagQueryRequest = z.infer<typeof RagQueryRequest>;

export const AnswerCitation = z.object({
  /** The passage id the answer cites, as `[1]`. */
  id: storedText(20),
  documentId: Uuid,
  documentName: storedText(),
  chunkId: Uuid,
  score: z.number(),
});
export type AnswerCitation = z.infer<typeof AnswerCitation>;

export const QueryTokens = z.object({
  /** Counted with the service's tokenizer: the prompt before the call, the answer after. */
  estimated: z.object({
    promptTokens: z.number().int().min(0),
    completionTokens: z.number().int().min(0),
  }),
  /** What the model server counted (`counted: false` where it sent no count). */
  provider: TokenUsage.extend({ counted: z.boolean() }),
});
export type QueryTokens = z.infer<typeof QueryTokens>;

export const RagQueryReply = z.object({
  queryId: Uuid,
  /** The scheduler job that generated the answer. */
  jobId: Uuid,
  answer: storedText(),
  model: storedText(200),
  finishReason: FinishReason,
  citations: z.array(AnswerCitation),
  usage: QueryTokens,
  /** Whether the context was assembled without some passages, or with the first cut to fit. */
  context: z.object({
    tokens: z.number().int().min(0),
    budgetTokens: z.number().int().min(1),
    passages: z.number().int().min(0),
    dropped: z.number().int().min(0),
    truncated: z.boolean(),
  }),
});
export type RagQueryReply = z.infer<typeof RagQueryReply>;

/**
 * One message of a streamed answer, relayed by the RAG service while the model writes: the
 * citations (and the job, so a caller that goes away can cancel it) first, then deltas in
 * order. The end comes as the reply to `rag.v1.query` itself (the whole answer and its usage,
 * or an error).
 */
export const AnswerStreamEvent = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('citations'),
      queryId: Uuid,
      jobId: Uuid,
      citations: z.array(AnswerCitation),
    })
    .strict(),
  z.object({ type: z.literal('delta'), seq: z.number().int().min(0), text: storedText() }).strict(),
]);
export type AnswerStreamEvent = z.infer<typeof AnswerStreamEvent>;

/** The stream subject of one query, from the id the gateway chose. */
export function answerStreamSuffix(streamId: string): string {
  return Uuid.parse(streamId);
}

// cost

const Day = z.iso.date();

export const ReconciliationQuery = z
  .object({
    /** First UTC day, `YYYY-MM-DD`; 30 days before `to` when left out. */
    from: Day.optional(),
    /** Last UTC day, inclusive; today when left out. */
    to: Day.optional(),
    tenantId: Uuid.optional(),
  })
  .strict();
export type ReconciliationQuery = z.infer<typeof ReconciliationQuery>;

export const ReconciliationDay = z.object({
  tenantId: Uuid,
  day: Day,
  requests: z.number().int().min(0),
  /** Tokens estimated (prompt before the call, answer counted by the tokenizer). */
  estimated: z.number().int().min(0),
  /** Tokens the model server counted. */
  counted: z.number().int().min(0),
  /** |counted − estimated| / counted; null where nothing was counted but something estimated. */
  variance: z.number().min(0).nullable(),
  /** Variance above the threshold. */
  flagged: z.boolean(),
});
export type ReconciliationDay = z.infer<typeof ReconciliationDay>;

export const ReconciliationReport = z.object({
  tenantId: Uuid,
  from: Day,
  to: Day,
  flagAbovePercent: z.number().int().min(0),
  days: z.array(ReconciliationDay),
});
export type ReconciliationReport = z.infer<typeof ReconciliationReport>;
