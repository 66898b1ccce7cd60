import { Inject, Injectable } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  DomainError,
  ErrorCode,
  RagAnswerStream,
  RagErrorReason,
  RagQueryRefusal,
  TenantsQuotaCheck,
  type RagQueryReply,
  type RagQueryRequest,
} from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { AuditRecorder, EventBus, RpcClient, UsageOutbox, auditActorOf } from '@lattice/messaging';
import { serviceContext, type RequestContext } from '@lattice/request-context';
import { Clock, LOGGER } from '@lattice/service-runtime';
import type { EntityManager } from 'typeorm';
import { CollectionRepository } from '../collections/collection.repository';
import { utcDay } from '../cost/token-reconciliation';
import type { EmbeddingProvider } from '../embeddings/embedding-provider';
import { EMBEDDING_PROVIDER } from '../embeddings/embedding-provider.token';
import { ragAccess, type RagActor } from '../rag-access';
import { redactPii } from '../redaction/pii-redaction';
import { readableClassifications } from '../retrieval/clearance';
import { RetrievalService } from '../retrieval/retrieval.service';
import { checkModelOutput } from '../screening/output-check';
import { screenQuestion } from '../screening/question-screening';
import { countTokens, truncateToTokens } from '../tokens/tokenizer';
import { AnswerGenerator } from './answer-generator';
import { QuestionOverBudget, planAnswer, type AnswerPlan } from './answer-plan';
import { QueryPseudonyms } from './query-pseudonyms';
import { QueryRecordRepository, type QueryRecord } from './query-record.repository';

export interface AnswerSettings {
  /** The fallback chain of models; a query naming a model puts it first. */
  models: string[];
  budgetTokens: number;
}
export const ANSWER_SETTINGS = Symbol('ANSWER_SETTINGS');

/**
 * Answers a question from a tenant's collection: screens it, embeds it with the collection's
 * model, retrieves within the caller's clearance, redacts PII from what the model is sent,
 * assembles the context within the token budget, checks the tenant's token quota, generates the
 * answer as an interactive inference job (relaying its deltas when asked to stream), checks the
 * answer for signs that an injection worked, and records the tokens estimated and counted,
 * metering them to USAGE once. Refusals are audited; the question is never kept in clear.
 */
@Injectable()
export class QueryService {
  constructor(
    private readonly scope: TenantScope,
    private readonly collections: CollectionRepository,
    private readonly retrieval: RetrievalService,
    private readonly records: QueryRecordRepository,
    private readonly generator: AnswerGenerator,
    private readonly pseudonyms: QueryPseudonyms,
    private readonly outbox: UsageOutbox<EntityManager>,
    private readonly rpc: RpcClient,
    private readonly events: EventBus,
    private readonly audit: AuditRecorder,
    private readonly clock: Clock,
    @Inject(EMBEDDING_PROVIDER) private readonly embeddings: EmbeddingProvider,
    @Inject(ANSWER_SETTINGS) private readonly settings: AnswerSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async ask(ctx: RequestContext, req: RagQueryRequest): Promise<RagQueryReply> {
    const actor = ragAccess.asking(ctx, req.tenantId);
    const queryId = randomUUID();
    const base = {
      id: queryId,
      tenantId: actor.tenantId,
      actorPseudonym: this.pseudonyms.actor(actor.tenantId, actor.ownerId),
      day: utcDay(this.clock.now()),
      collectionId: req.collection,
      questionHash: this.pseudonyms.question(actor.tenantId, req.question),
    };

    const screening = screenQuestion(req.question);
    if (screening.verdict === 'refuse') {
      await this.scope.run(actor.tenantId, (em) =>
        this.records.insert(em, { ...base, ...NO_TOKENS, outcome: 'refused-question' }),
      );
      this.refused(ctx, actor, base, 'question', screening.reasons, screening.score);
      throw new DomainError(
        ErrorCode.ContentRefused,
        'the question was refused: it reads as an attempt to change the assistant’s instructions',
        { reason: RagQueryRefusal.PromptInjection, reasons: screening.reasons },
      );
    }

    const collection = await this.scope.run(actor.tenantId, (em) =>
      this.collections.get(em, req.collection),
    );
    if (!collection) throw ragAccess.hiddenCollection();
    if (collection.embeddingModel !== this.embeddings.model)
      throw new DomainError(
        ErrorCode.Conflict,
        `the collection is embedded by ${collection.embeddingModel}, but this service embeds questions with ${this.embeddings.model}: re-embed the collection or configure that model`,
        { reason: RagErrorReason.EmbeddingModelMismatch },
      );

    // what leaves the service (the embeddings server, the model) carries no PII
    const question = redactPii(req.question).text;
    const [vector] = await this.embeddings.embed([question]);
    const found = await this.retrieval.search(
      actor.tenantId,
      {
        collectionId: collection.id,
        vector: vector!,
        text: question,
        topK: req.topK,
        classifications: readableClassifications(actor.clearance),
      },
      this.embeddings.model,
    );
    const plan = this.plan(req.question, found.hits);

    await this.requireTokens(actor.tenantId, plan.promptTokens + req.maxTokens);

    const models = [...new Set([...(req.model ? [req.model] : []), ...this.settings.models])];
    let written = '';
    let tripped: DomainError | undefined;
    const generation = await this.generator
      .generate(ctx, {
        tenantId: actor.tenantId,
        payload: { messages: plan.messages, models: models.slice(0, 8), maxTokens: req.maxTokens },
        onSubmitted: (jobId) => {
          if (req.streamId)
            this.events.publish(
              RagAnswerStream,
              { type: 'citations', queryId, jobId, citations: plan.citations },
              req.streamId,
            );
        },
        onDelta: (seq, text) => {
          // once tripped, the deltas still in flight are neither checked nor relayed
          if (tripped) return tripped;
          written += text;
          // the answer is checked as it grows, so a leak stops before the caller sees it whole
          const check = this.checkAnswer(written, plan);
          if (check.verdict === 'refuse') {
            tripped = unsafeAnswer();
            return tripped;
          }
          if (req.streamId)
            this.events.publish(RagAnswerStream, { type: 'delta', seq, text }, req.streamId);
          return true;
        },
      })
      .catch((error: unknown) => {
        if (tripped && error === tripped) return undefined;
        throw error;
      });

    if (!generation) {
      // stopped mid-answer: no provider count came, so the tokens it took are metered as estimated
      const estimatedCompletionTokens = countTokens(written);
      await this.scope.run(actor.tenantId, async (em) => {
        await this.records.insert(em, {
          ...base,
          ...NO_TOKENS,
          estimatedPromptTokens: plan.promptTokens,
          estimatedCompletionTokens,
          outcome: 'refused-answer',
        });
        await this.meter(
          em,
          actor.tenantId,
          queryId,
          plan.promptTokens + estimatedCompletionTokens,
        );
      });
      void this.outbox.kick();
      this.refused(ctx, actor, base, 'answer', ['output-check: stopped while streaming'], 1);
      throw unsafeAnswer();
    }

    const { result, jobId } = generation;
    const check = this.checkAnswer(result.text, plan);
    const record: QueryRecord = {
      ...base,
      outcome: check.verdict === 'refuse' ? 'refused-answer' : 'answered',
      jobId,
      model: result.model,
      estimatedPromptTokens: plan.promptTokens,
      estimatedCompletionTokens: countTokens(result.text),
      countedPromptTokens: result.usage.promptTokens,
      countedCompletionTokens: result.usage.completionTokens,
      usageCounted: result.usageCounted,
    };
    await this.scope.run(actor.tenantId, async (em) => {
      await this.records.insert(em, record);
      await this.meter(em, actor.tenantId, queryId, result.usage.totalTokens);
    });
    void this.outbox.kick();

    if (check.verdict === 'refuse') {
      this.refused(ctx, actor, base, 'answer', check.reasons, check.score);
      throw unsafeAnswer();
    }
    this.audit.record({
      tenantId: actor.tenantId,
      actor: auditActorOf(ctx),
      action: 'rag.query',
      resource: { type: 'Collection', id: collection.id },
      outcome: 'success',
      requestId: ctx.requestId,
      metadata: {
        queryId,
        jobId,
        questionHash: base.questionHash,
        model: result.model,
        citations: plan.citations.length,
        redacted: plan.redacted.question + plan.redacted.passages,
        promptTokens: result.usage.promptTokens,
        completionTokens: result.usage.completionTokens,
      },
    });
    return {
      queryId,
      jobId,
      answer: result.text,
      model: result.model,
      finishReason: result.finishReason,
      citations: plan.citations,
      usage: {
        estimated: {
          promptTokens: record.estimatedPromptTokens,
          completionTokens: record.estimatedCompletionTokens,
        },
        provider: { ...result.usage, counted: result.usageCounted },
      },
      context: {
        tokens: plan.promptTokens,
        budgetTokens: plan.budgetTokens,
        passages: plan.citations.length,
        dropped: plan.dropped,
        truncated: plan.truncated,
      },
    };
  }

  private plan(
    question: string,
    hits: ReadonlyArray<{
      chunkId: string;
      documentId: string;
      sourceName: string;
      text: string;
      score: number;
    }>,
  ): AnswerPlan {
    try {
      return planAnswer(
        question,
        hits.map((h) => ({
          chunkId: h.chunkId,
          documentId: h.documentId,
          documentName: h.sourceName,
          text: h.text,
          score: h.score,
        })),
        {
          budgetTokens: this.settings.budgetTokens,
          canary: randomBytes(12).toString('base64url'),
          countTokens,
          truncate: truncateToTokens,
        },
      );
    } catch (error) {
      if (error instanceof QuestionOverBudget)
        throw new DomainError(ErrorCode.ValidationFailed, error.message, {
          field: 'question',
          reason: RagQueryRefusal.QuestionTooLong,
        });
      throw error;
    }
  }

  private checkAnswer(answer: string, plan: AnswerPlan) {
    return checkModelOutput(answer, {
      canary: plan.canary,
      systemPrompt: plan.systemPrompt,
      context: plan.passages,
    });
  }

  /** The tokens an answer took, for USAGE once (its message id is the query's). */
  private meter(em: EntityManager, tenantId: string, queryId: string, amount: number) {
    return this.outbox.record(em, {
      messageId: `rag-query:${queryId}`,
      tenantId,
      resource: 'tokens',
      amount,
      occurredAt: this.clock.now().toISOString(),
      source: 'rag',
    });
  }

  /** Refused when the estimate (prompt and the most the answer may take) is over the quota. */
  private async requireTokens(tenantId: string, amount: number): Promise<void> {
    const quota = await this.rpc.request(
      TenantsQuotaCheck,
      { tenantId, resource: 'tokens', amount },
      serviceContext('rag'),
    );
    if (!quota.allowed)
      throw new DomainError(
        ErrorCode.QuotaExceeded,
        `the tenant's token quota for ${quota.period} would be exceeded (${quota.remaining} of ${quota.limit} left, this answer may take ${amount})`,
        { resource: 'tokens', limit: quota.limit, used: quota.used, remaining: quota.remaining },
      );
  }

  /** The refusal in the audit trail: the question's keyed hash and the reasons, never the text. */
  private refused(
    ctx: RequestContext,
    actor: RagActor,
    base: { id: string; collectionId: string; questionHash: string },
    stage: 'question' | 'answer',
    reasons: string[],
    score: number,
  ): void {
    this.logger.warn(
      { queryId: base.id, tenantId: actor.tenantId, stage, reasons },
      stage === 'question' ? 'question refused by screening' : 'answer refused by the output check',
    );
    this.audit.record({
      tenantId: actor.tenantId,
      actor: auditActorOf(ctx),
      action: 'rag.query-refused',
      resource: { type: 'Collection', id: base.collectionId },
      outcome: 'denied',
      requestId: ctx.requestId,
      metadata: {
        queryId: base.id,
        stage,
        questionHash: base.questionHash,
        reasons: reasons.slice(0, 20),
        score: Math.round(score * 1000) / 1000,
      },
    });
  }
}

const NO_TOKENS = {
  jobId: null,
  model: null,
  estimatedPromptTokens: 0,
  estimatedCompletionTokens: 0,
  countedPromptTokens: 0,
  countedCompletionTokens: 0,
  usageCounted: false,
};

const unsafeAnswer = () =>
  new DomainError(
    ErrorCode.ContentRefused,
    'the answer was withheld: it showed signs that the model’s instructions were overridden',
    { reason: RagQueryRefusal.UnsafeAnswer },
  );
