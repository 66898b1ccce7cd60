import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  DomainError,
  ErrorCode,
  RagErrorReason,
  type CollectionPage,
  type CollectionView,
  type CreateCollectionRequest,
  type DeletedReply,
  type ListCollectionsQuery,
} from '@lattice/contracts';
import { CursorCodec, TenantScope } from '@lattice/database';
import { AuditRecorder, auditActorOf } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { DocumentIngestQueue } from '../documents/document-ingest-queue';
import type { EmbeddingProvider } from '../embeddings/embedding-provider';
import { EMBEDDING_PROVIDER } from '../embeddings/embedding-provider.token';
import { DocumentRepository } from '../documents/document.repository';
import { StorageMetering } from '../documents/storage-metering';
import { ragAccess } from '../rag-access';
import { VECTOR_STORAGE, type VectorStorage } from '../storage/vector-storage';
import { CollectionRepository, type CollectionRow } from './collection.repository';

/** A tenant's collections: each with its embedding model and dimension, and its own vector index. */
@Injectable()
export class CollectionService {
  constructor(
    private readonly scope: TenantScope,
    private readonly collections: CollectionRepository,
    private readonly cursors: CursorCodec,
    private readonly audit: AuditRecorder,
    @Inject(VECTOR_STORAGE) private readonly storage: VectorStorage,
    private readonly documents: DocumentRepository,
    private readonly metering: StorageMetering,
    @Inject(DocumentIngestQueue) private readonly ingest: DocumentIngestQueue,
    @Inject(EMBEDDING_PROVIDER) private readonly embeddings: EmbeddingProvider,
  ) {}

  async create(ctx: RequestContext, req: CreateCollectionRequest): Promise<CollectionView> {
    const actor = ragAccess.collections(ctx, 'create', req.tenantId);
    const embedding = this.embeddingOf(req);
    const id = randomUUID();
    const row = await this.scope
      .run(actor.tenantId, async (em) => {
        // asked first so the answer names the clash; the unique key still decides a race
        if (await this.collections.nameTaken(em, req.name)) throw nameTaken();
        await this.collections.insert(em, {
          id,
          tenantId: actor.tenantId,
          ownerId: actor.ownerId,
          name: req.name,
          description: req.description ?? null,
          embeddingModel: embedding.model,
          embeddingDimension: embedding.dimension,
        });
        if (this.storage.mode === 'pgvector-hnsw') await this.collections.createVectorIndex(em, id);
        return (await this.collections.get(em, id))!;
      })
      .catch((error: unknown) => {
        if ((error as { driverError?: { code?: string } }).driverError?.code === '23505')
          throw nameTaken();
        throw error;
      });
    this.record(ctx, 'collection.create', row);
    return toCollectionView(row);
  }

  async get(ctx: RequestContext, id: string, tenantId?: string): Promise<CollectionView> {
    const actor = ragAccess.collections(ctx, 'read', tenantId);
    const row = await this.scope.run(actor.tenantId, (em) => this.collections.get(em, id));
    if (!row) throw ragAccess.hiddenCollection();
    return toCollectionView(row);
  }

  async list(ctx: RequestContext, query: ListCollectionsQuery): Promise<CollectionPage> {
    const actor = ragAccess.collections(ctx, 'read', query.tenantId);
    const binding = { tenantId: actor.tenantId, list: 'collections' };
    const after = query.cursor
      ? (this.cursors.decode(query.cursor, binding) as [string, string])
      : null;
    const rows = await this.scope.run(actor.tenantId, (em) =>
      this.collections.list(em, after, query.limit + 1),
    );
    const items = rows.slice(0, query.limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toCollectionView),
      nextCursor:
        rows.length > query.limit && last
          ? this.cursors.encode([last.createdAt.toISOString(), last.id], binding)
          : null,
    };
  }

  /** Deletes the collection, its documents, chunks and vector index. */
  async delete(ctx: RequestContext, id: string, tenantId?: string): Promise<DeletedReply> {
    const actor = ragAccess.collections(ctx, 'delete', tenantId);
    const gone = await this.scope.run(actor.tenantId, async (em) => {
      const found = await this.collections.get(em, id, true);
      if (!found) return undefined;
      const documents = await this.documents.ofCollection(em, id);
      if (this.storage.mode === 'pgvector-hnsw') await this.collections.dropVectorIndex(em, id);
      await this.collections.delete(em, id);
      await this.metering.removed(em, documents);
      return { row: found, documents };
    });
    if (!gone) throw ragAccess.hiddenCollection();
    const { row, documents } = gone;
    this.metering.kick();
    for (const doc of documents)
      if (doc.ingestJobId && (doc.status === 'pending' || doc.status === 'processing'))
        await this.ingest.cancel(doc.ingestJobId, doc.tenantId, ctx);
    this.record(ctx, 'collection.delete', row);
    return { id, deleted: true };
  }

  /** The model the request names, or the service's own; another model must name its dimension. */
  private embeddingOf(req: CreateCollectionRequest): { model: string; dimension: number } {
    const model = req.embeddingModel ?? this.embeddings.model;
    const dimension =
      req.embeddingDimension ??
      (model === this.embeddings.model ? this.embeddings.dimension : undefined);
    if (dimension === undefined)
      throw new DomainError(
        ErrorCode.ValidationFailed,
        `embeddingDimension is required for ${model}, which is not this service's model (${this.embeddings.model})`,
        { field: 'embeddingDimension' },
      );
    return { model, dimension };
  }

  private record(ctx: RequestContext, action: string, row: CollectionRow): void {
    this.audit.record({
      tenantId: row.tenantId,
      actor: auditActorOf(ctx),
      action,
      resource: { type: 'Collection', id: row.id },
      outcome: 'success',
      requestId: ctx.requestId,
      metadata: { embeddingModel: row.embeddingModel, embeddingDimension: row.embeddingDimension },
    });
  }
}

const nameTaken = () =>
  new DomainError(ErrorCode.Conflict, 'a collection of that name exists', {
    reason: RagErrorReason.CollectionNameTaken,
  });

export function toCollectionView(row: CollectionRow): CollectionView {
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    description: row.description,
    embeddingModel: row.embeddingModel,
    embeddingDimension: row.embeddingDimension,
    documentCount: row.documentCount,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
