import { Inject, Injectable } from '@nestjs/common';
import {
  DomainError,
  ErrorCode,
  RagErrorReason,
  type Classification,
  type RetrievalHit,
  type RetrieveReply,
  type RetrieveRequest,
} from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import type { RequestContext } from '@lattice/request-context';
import { CollectionRepository } from '../collections/collection.repository';
import { ragAccess } from '../rag-access';
import { VECTOR_STORAGE, type VectorStorage } from '../storage/vector-storage';
import { readableClassifications } from './clearance';
import { reciprocalRankFusion } from './reciprocal-rank-fusion';
import { RetrievalRepository, type ChunkCandidate } from './retrieval.repository';

export interface RetrievalSettings {
  /** HNSW candidates kept while searching (`hnsw.ef_search`); at least the candidates asked. */
  efSearch: number;
  /** Candidates each search hands to the fusion, at least topK. */
  candidates: number;
}
export const RETRIEVAL_SETTINGS = Symbol('RETRIEVAL_SETTINGS');

/** A search of one tenant's collection, as the answering path and the benches ask it. */
export interface SearchQuery {
  collectionId: string;
  vector: readonly number[];
  text?: string;
  topK: number;
  classifications: readonly Classification[];
  metadata?: Record<string, unknown>;
  /** Ranks by an exact scan instead of the HNSW index (the measure of the index's recall). */
  exact?: boolean;
}

export interface SearchResult {
  embeddingModel: string;
  hits: RetrievalHit[];
}

/**
 * Retrieval: the chunks nearest the query vector (HNSW on the collection's own index, or an
 * exact scan) and those matching its words (full-text search), fused by reciprocal rank,
 * within the caller's clearance and the metadata asked for.
 */
@Injectable()
export class RetrievalService {
  constructor(
    private readonly scope: TenantScope,
    private readonly collections: CollectionRepository,
    private readonly retrieval: RetrievalRepository,
    @Inject(VECTOR_STORAGE) private readonly storage: VectorStorage,
    @Inject(RETRIEVAL_SETTINGS) private readonly settings: RetrievalSettings,
  ) {}

  get mode() {
    return this.storage.mode;
  }

  async retrieve(ctx: RequestContext, req: RetrieveRequest): Promise<RetrieveReply> {
    const actor = ragAccess.documents(ctx, 'read', req.tenantId);
    const result = await this.search(
      actor.tenantId,
      {
        collectionId: req.collectionId,
        vector: req.vector,
        text: req.text,
        topK: req.topK,
        classifications: readableClassifications(actor.clearance, req.filters.classifications),
        metadata: req.filters.metadata,
      },
      req.embeddingModel,
    );
    return {
      collectionId: req.collectionId,
      embeddingModel: result.embeddingModel,
      search: this.storage.mode,
      clearance: actor.clearance,
      hits: result.hits,
    };
  }

  /**
   * Searches a collection of the tenant. The vector must be of the collection's dimension and,
   * where `embeddingModel` is named, of its model.
   */
  async search(
    tenantId: string,
    query: SearchQuery,
    embeddingModel?: string,
  ): Promise<SearchResult> {
    return this.scope.run(tenantId, async (em) => {
      const collection = await this.collections.get(em, query.collectionId);
      if (!collection) throw ragAccess.hiddenCollection();
      if (embeddingModel !== undefined && embeddingModel !== collection.embeddingModel)
        throw new DomainError(
          ErrorCode.Conflict,
          `the collection is embedded by ${collection.embeddingModel}, not ${embeddingModel}`,
          { reason: RagErrorReason.EmbeddingModelMismatch },
        );
      if (query.vector.length !== collection.embeddingDimension)
        throw new DomainError(
          ErrorCode.ValidationFailed,
          `the query vector has ${query.vector.length} dimensions, the collection ${collection.embeddingDimension}`,
          { field: 'vector', reason: RagErrorReason.EmbeddingDimensionMismatch },
        );
      if (query.classifications.length === 0)
        return { embeddingModel: collection.embeddingModel, hits: [] };

      const candidates = Math.max(query.topK, this.settings.candidates);
      await this.retrieval.tune(em, this.storage, Math.max(this.settings.efSearch, candidates));
      const filter = {
        collectionId: collection.id,
        dimension: collection.embeddingDimension,
        classifications: query.classifications,
        metadata: query.metadata,
        limit: candidates,
      };
      const byVector = await this.retrieval.nearest(em, this.storage, query.vector, filter, {
        exact: query.exact,
      });
      const byText = query.text?.trim()
        ? await this.retrieval.matching(em, query.text, filter)
        : [];
      const found = new Map<string, ChunkCandidate>();
      for (const c of [...byText, ...byVector]) found.set(c.id, c);
      const fused = reciprocalRankFusion([
        byVector.map((c) => c.id),
        byText.map((c) => c.id),
      ]).slice(0, query.topK);
      const sources = await this.retrieval.sourceNames(em, [
        ...new Set(fused.map((f) => found.get(f.id)!.documentId)),
      ]);
      const hits = fused.map(({ id, score, ranks: [vectorRank, textRank] }): RetrievalHit => {
        const c = found.get(id)!;
        return {
          chunkId: c.id,
          documentId: c.documentId,
          sourceName: sources.get(c.documentId) ?? '',
          ordinal: c.ordinal,
          text: c.text,
          tokenCount: c.tokenCount,
          classification: c.classification,
          metadata: c.metadata as RetrievalHit['metadata'],
          score,
          distance: c.distance === null ? null : Number(c.distance),
          vectorRank: vectorRank ?? null,
          textRank: textRank ?? null,
        };
      });
      return { embeddingModel: collection.embeddingModel, hits };
    });
  }
}
