import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Classification } from '@lattice/contracts';
import { vectorLiteral, type VectorStorage } from '../storage/vector-storage';

/** A chunk of a document, embedded, as ingest writes it. */
export interface NewChunk {
  id: string;
  ordinal: number;
  text: string;
  tokenCount: number;
  embedding: readonly number[];
}

/** What a chunk copies from its document so a search filters it without a join. */
export interface ChunkOwner {
  tenantId: string;
  collectionId: string;
  documentId: string;
  classification: Classification;
  metadata: Record<string, unknown>;
}

/** Chunks. Every statement runs in a tenant's scope: row-level security shows it its own. */
@Injectable()
export class ChunkRepository {
  /** Replaces the document's chunks with these, in batches of one statement each. */
  async replace(
    em: EntityManager,
    storage: VectorStorage,
    owner: ChunkOwner,
    chunks: readonly NewChunk[],
  ): Promise<void> {
    await em.query(`DELETE FROM rag.chunks WHERE document_id = $1`, [owner.documentId]);
    const embeddingType = storage.mode === 'pgvector-hnsw' ? 'public.vector' : 'real[]';
    const batch = 200;
    for (let start = 0; start < chunks.length; start += batch) {
      const part = chunks.slice(start, start + batch);
      await em.query(
        `INSERT INTO rag.chunks
           (id, tenant_id, collection_id, document_id, ordinal, text, token_count,
            classification, metadata, dimension, embedding)
         SELECT c.id, $1, $2, $3, c.ordinal, c.text, c.token_count, $4, $5::jsonb,
                c.dimension, c.embedding::${embeddingType}
           FROM unnest($6::uuid[], $7::int[], $8::text[], $9::int[], $10::int[], $11::text[])
             AS c(id, ordinal, text, token_count, dimension, embedding)`,
        [
          owner.tenantId,
          owner.collectionId,
          owner.documentId,
          owner.classification,
          JSON.stringify(owner.metadata),
          part.map((c) => c.id),
          part.map((c) => c.ordinal),
          part.map((c) => c.text),
          part.map((c) => c.tokenCount),
          part.map((c) => c.embedding.length),
          part.map((c) =>
            storage.mode === 'pgvector-hnsw'
              ? vectorLiteral(c.embedding)
              : `{${c.embedding.join(',')}}`,
          ),
        ],
      );
    }
  }
}
