import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  DomainError,
  ErrorCode,
  RagIngestPayload,
  type DocumentMediaType,
  type LeasedJob,
} from '@lattice/contracts';
import { LOGGER } from '@lattice/service-runtime';
import {
  PermanentJobError,
  type JobAbortedError,
  type JobContext,
  type JobResult,
} from '@lattice/worker';
import type { NewChunk } from '../chunks/chunk.repository';
import { DocumentIngestStore } from '../documents/document-ingest.store';
import { EmbeddingError, type EmbeddingProvider } from '../embeddings/embedding-provider';
import { EMBEDDING_PROVIDER } from '../embeddings/embedding-provider.token';
import { countTokens } from '../tokens/tokenizer';
import { ChunkingError, chunkDocument } from './chunking';
import { DocumentParseError, parseDocument } from './parsing';

export const INGEST_SETTINGS = Symbol('INGEST_SETTINGS');

export interface IngestSettings {
  /** Largest chunk, in tokens. */
  chunkTokens: number;
  overlapTokens: number;
  /** Chunks embedded per step; progress is reported after each. */
  batchChunks: number;
}

/** A failure of the document itself, or of the embedding model: `<code>: <message>`. */
function failureOf(error: unknown): { reason: string; permanent: boolean } | undefined {
  if (error instanceof DocumentParseError)
    return { reason: `${error.code}: ${error.message}`, permanent: true };
  if (error instanceof ChunkingError)
    return { reason: `unchunkable: ${error.message}`, permanent: true };
  if (error instanceof EmbeddingError && error.code !== 'aborted')
    return { reason: `embedding_${error.code}: ${error.message}`, permanent: !error.retryable };
  return undefined;
}

/**
 * One document's ingest, as a `rag.ingest` job of the `embedding` queue: read the document
 * in its tenant's scope, parse it, chunk it by tokens, embed the chunks in batches (progress
 * reported after each), then write every chunk and mark the document `ready` in one
 * transaction, so a retry or a stop leaves no half-written chunks behind. A document that
 * cannot be read ends `failed` with a code, at once; an embedding server that is away fails
 * the attempt, and the scheduler retries it.
 */
@Injectable()
export class DocumentIngestJob {
  constructor(
    private readonly store: DocumentIngestStore,
    @Inject(EMBEDDING_PROVIDER) private readonly embeddings: EmbeddingProvider,
    @Inject(INGEST_SETTINGS) private readonly settings: IngestSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async run(job: LeasedJob, context: JobContext): Promise<JobResult> {
    const parsed = RagIngestPayload.safeParse(job.payload);
    if (!parsed.success) throw new PermanentJobError('the payload is not an ingest request');
    const { collectionId, documentId } = parsed.data;
    const tenantId = job.tenantId;
    const work = await this.store.begin(tenantId, collectionId, documentId);
    // deleted, or made ready by an earlier attempt that was not reported
    if (!work) return { documentId, outcome: 'skipped' };
    const log = this.logger.child({ jobId: job.id, documentId, attempt: context.attempt });

    const fail = async (reason: string, final: boolean): Promise<never> => {
      if (final) await this.store.fail(tenantId, documentId, reason);
      else await this.store.retrying(tenantId, documentId, reason);
      log.info({ reason, final }, 'ingest failed');
      throw final ? new PermanentJobError(reason) : new Error(reason);
    };

    if (
      work.embeddingModel !== this.embeddings.model ||
      work.embeddingDimension !== this.embeddings.dimension
    )
      return fail(
        `embedding_model_mismatch: the collection is embedded by ${work.embeddingModel} (${work.embeddingDimension} dimensions); this service embeds with ${this.embeddings.model} (${this.embeddings.dimension})`,
        true,
      );

    try {
      const chunks = await this.chunksOf(work, context);
      if (context.signal.aborted) throw context.signal.reason;
      await this.store.complete(tenantId, collectionId, documentId, {
        embeddingModel: this.embeddings.model,
        chunks,
      });
      log.info({ chunks: chunks.length }, 'document ingested');
      return { documentId, outcome: 'ready', chunks: chunks.length };
    } catch (error) {
      const last = context.attempt >= job.maxAttempts;
      if (context.signal.aborted) {
        // cancelled, deleted or handed back: another attempt (or nobody) takes it from here;
        // out of time on the last attempt, the document says so rather than stay `processing`
        const reason = (context.signal.reason as JobAbortedError | undefined)?.reason;
        if (reason === 'timeout' && last)
          await this.store.fail(tenantId, documentId, 'timeout: the ingest ran out of time');
        throw error;
      }
      // deleted while it was embedded: nothing to write, nothing to report
      if (error instanceof DomainError && error.code === ErrorCode.NotFound)
        return { documentId, outcome: 'skipped' };
      const failure = failureOf(error);
      if (!failure) {
        log.error({ err: error }, 'ingest failed unexpectedly');
        if (last) await this.store.fail(tenantId, documentId, 'ingest_failed: an internal error');
        throw error;
      }
      // a retryable error on the last attempt is as final as any
      return fail(failure.reason, failure.permanent || last);
    }
  }

  private async chunksOf(
    work: { mediaType: DocumentMediaType; body: Buffer; sourceName: string },
    context: JobContext,
  ): Promise<NewChunk[]> {
    context.reportProgress({ done: 0, total: 1, stage: 'parsing' });
    const document = await parseDocument({
      contentType: work.mediaType,
      body: work.body,
      sourceName: work.sourceName,
    });
    const chunks = chunkDocument(document, {
      maxTokens: this.settings.chunkTokens,
      overlapTokens: this.settings.overlapTokens,
      countTokens,
    });
    const total = chunks.length;
    context.reportProgress({ done: 0, total, stage: 'embedding' });
    const embedded: NewChunk[] = [];
    for (let start = 0; start < total; start += this.settings.batchChunks) {
      if (context.signal.aborted) throw context.signal.reason;
      const batch = chunks.slice(start, start + this.settings.batchChunks);
      const vectors = await this.embeddings.embed(
        batch.map((c) => c.text),
        context.signal,
      );
      batch.forEach((chunk, i) =>
        embedded.push({
          id: randomUUID(),
          ordinal: chunk.index,
          text: chunk.text,
          tokenCount: chunk.tokenCount,
          embedding: vectors[i]!,
        }),
      );
      context.reportProgress({
        done: embedded.length,
        total,
        stage: 'embedding',
        message: `${embedded.length} of ${total} chunks embedded`,
      });
    }
    return embedded;
  }
}
