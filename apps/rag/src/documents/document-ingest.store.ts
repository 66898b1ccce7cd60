import { Inject, Injectable } from '@nestjs/common';
import { DomainError, ErrorCode, RagErrorReason, type DocumentMediaType } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { ChunkRepository, type NewChunk } from '../chunks/chunk.repository';
import { CollectionRepository } from '../collections/collection.repository';
import { VECTOR_STORAGE, type VectorStorage } from '../storage/vector-storage';
import { DocumentRepository } from './document.repository';

/** What ingest is given to work on. */
export interface IngestWork {
  documentId: string;
  collectionId: string;
  sourceName: string;
  mediaType: DocumentMediaType;
  body: Buffer;
  embeddingModel: string;
  embeddingDimension: number;
}

/**
 * The ingest job's way into storage: take a pending document, then either write its chunks
 * (embedded by the collection's own model, at its dimension: anything else is refused, never
 * mixed in) or say why it failed.
 */
@Injectable()
export class DocumentIngestStore {
  constructor(
    private readonly scope: TenantScope,
    private readonly collections: CollectionRepository,
    private readonly documents: DocumentRepository,
    private readonly chunks: ChunkRepository,
    @Inject(VECTOR_STORAGE) private readonly storage: VectorStorage,
  ) {}

  /** Marks the document `processing` and answers its content; undefined if it is gone or done. */
  async begin(
    tenantId: string,
    collectionId: string,
    documentId: string,
  ): Promise<IngestWork | undefined> {
    return this.scope.run(tenantId, async (em) => {
      const collection = await this.collections.get(em, collectionId);
      const doc = collection && (await this.documents.get(em, collectionId, documentId, true));
      if (!collection || !doc || doc.status === 'ready') return undefined;
      const body = await this.documents.body(em, documentId);
      if (!body) return undefined;
      await this.documents.setStatus(em, documentId, { status: 'processing' });
      return {
        documentId,
        collectionId,
        sourceName: doc.sourceName,
        mediaType: doc.mediaType,
        body,
        embeddingModel: collection.embeddingModel,
        embeddingDimension: collection.embeddingDimension,
      };
    });
  }

  /**
   * Replaces the document's chunks and marks it `ready`, dropping the kept content. Refuses
   * chunks embedded by another model (CONFLICT) or of another dimension (VALIDATION_FAILED).
   */
  async complete(
    tenantId: string,
    collectionId: string,
    documentId: string,
    result: { embeddingModel: string; chunks: readonly NewChunk[] },
  ): Promise<void> {
    await this.scope.run(tenantId, async (em) => {
      const collection = await this.collections.get(em, collectionId, true);
      const doc = collection && (await this.documents.get(em, collectionId, documentId, true));
      if (!collection || !doc) throw new DomainError(ErrorCode.NotFound, 'no such document');
      if (result.embeddingModel !== collection.embeddingModel)
        throw new DomainError(
          ErrorCode.Conflict,
          `the collection is embedded by ${collection.embeddingModel}, not ${result.embeddingModel}`,
          { reason: RagErrorReason.EmbeddingModelMismatch },
        );
      const wrong = result.chunks.find((c) => c.embedding.length !== collection.embeddingDimension);
      if (wrong)
        throw new DomainError(
          ErrorCode.ValidationFailed,
          `chunk ${wrong.ordinal} has ${wrong.embedding.length} dimensions, the collection ${collection.embeddingDimension}`,
          { reason: RagErrorReason.EmbeddingDimensionMismatch },
        );
      await this.chunks.replace(
        em,
        this.storage,
        {
          tenantId,
          collectionId,
          documentId,
          classification: doc.classification,
          metadata: doc.metadata,
        },
        result.chunks,
      );
      await this.documents.setStatus(em, documentId, {
        status: 'ready',
        chunkCount: result.chunks.length,
        dropBody: true,
      });
    });
  }

  /** Puts the document back to `pending`, saying why its last attempt failed; another follows. */
  async retrying(tenantId: string, documentId: string, error: string): Promise<void> {
    await this.scope.run(tenantId, (em) =>
      this.documents.setStatus(em, documentId, { status: 'pending', error: error.slice(0, 1000) }),
    );
  }

  /** Marks the document `failed` with a reason its owner can read; its content stays for a retry. */
  async fail(tenantId: string, documentId: string, error: string): Promise<void> {
    await this.scope.run(tenantId, (em) =>
      this.documents.setStatus(em, documentId, { status: 'failed', error: error.slice(0, 1000) }),
    );
  }
}
