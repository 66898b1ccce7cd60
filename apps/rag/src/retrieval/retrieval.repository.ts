import { Injectable } from '@nestjs/common';
import { escapeLiteral } from 'pg';
import type { EntityManager } from 'typeorm';
import type { Classification } from '@lattice/contracts';
import { vectorLiteral, type VectorStorage } from '../storage/vector-storage';

/** A chunk a search found, in the order of that search. */
export interface ChunkCandidate {
  id: string;
  documentId: string;
  ordinal: number;
  text: string;
  tokenCount: number;
  classification: Classification;
  metadata: Record<string, unknown>;
  /** Cosine distance for a vector search; null for a text search. */
  distance: number | null;
}

export interface CandidateQuery {
  collectionId: string;
  /** The collection's dimension: its HNSW index casts to `vector(dimension)`. */
  dimension: number;
  classifications: readonly Classification[];
  /** JSON the chunk's document metadata must contain; bound as a parameter, never spliced. */
  metadata?: Record<string, unknown>;
  limit: number;
}

const CANDIDATE_COLUMNS = `
  id, document_id AS "documentId", ordinal, text, token_count AS "tokenCount",
  classification, metadata`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The two searches retrieval fuses. Both run in a tenant's scope (row-level security keeps
 * them to its rows) and filter classification and metadata inside the scan.
 */
@Injectable()
export class RetrievalRepository {
  /**
   * Tunes the approximate search for this transaction: how many candidates HNSW keeps, and
   * (pgvector 0.8+) that it goes on scanning when filters drop candidates, so a filtered search
   * still fills its limit.
   */
  async tune(em: EntityManager, storage: VectorStorage, efSearch: number): Promise<void> {
    if (storage.mode !== 'pgvector-hnsw') return;
    await em.query(`SELECT set_config('hnsw.ef_search', $1, true)`, [String(efSearch)]);
    if (storage.iterativeScan)
      await em.query(`SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)`);
  }

  /**
   * The chunks nearest `vector` by cosine distance, nearest first: through the collection's
   * HNSW index, or by an exact scan where `exact` is asked or pgvector is missing.
   */
  async nearest(
    em: EntityManager,
    storage: VectorStorage,
    vector: readonly number[],
    query: CandidateQuery,
    { exact = false }: { exact?: boolean } = {},
  ): Promise<ChunkCandidate[]> {
    const { where, params } = filters(query, 2);
    params.push(query.limit);
    // $1 is the vector, the filters follow from $2
    const limit = `$${params.length + 1}`;
    if (storage.mode === 'pgvector-hnsw') {
      const dimension = Number(query.dimension);
      if (!Number.isInteger(dimension)) throw new Error('dimension must be an integer');
      // The index is partial on this collection: its predicate is proven against a literal,
      // so the (validated) id is written into the statement rather than bound.
      const distance = exact
        ? `embedding <=> $1::public.vector`
        : `(embedding::public.vector(${dimension})) <=> $1::public.vector(${dimension})`;
      const jitSetting = exact
        ? ''
        : ((await em.query(`SELECT current_setting('jit') AS jit`)) as [{ jit: string }])[0].jit;
      // The tenant's btree (tenant_id, collection_id) would also serve this WHERE, then sort
      // every chunk of the collection: the planner, which cannot estimate the row-security
      // qual, takes it for small. Without sorts the ordered HNSW scan is the plan; the
      // setting lasts for this statement only, as does `jit = off`: the cost that keeps sorts
      // out would otherwise send the plan to JIT compilation (hundreds of milliseconds).
      if (!exact)
        await em.query(
          `SELECT set_config('enable_sort', 'off', true), set_config('jit', 'off', true)`,
        );
      const rows = (await em.query(
        `WITH nearest AS MATERIALIZED (
           SELECT ${CANDIDATE_COLUMNS}, ${distance} AS distance
             FROM rag.chunks
            WHERE collection_id = ${collectionLiteral(query.collectionId)} AND ${where}
            ORDER BY ${distance}
            LIMIT ${limit})
         SELECT * FROM nearest ORDER BY distance, id`,
        [vectorLiteral(vector), ...params],
      )) as ChunkCandidate[];
      if (!exact)
        await em.query(
          `SELECT set_config('enable_sort', 'on', true), set_config('jit', $1, true)`,
          [jitSetting],
        );
      return rows;
    }
    return (await em.query(
      `SELECT ${CANDIDATE_COLUMNS}, rag.cosine_distance(embedding, $1::real[]) AS distance
         FROM rag.chunks
        WHERE collection_id = ${collectionLiteral(query.collectionId)} AND ${where}
        ORDER BY distance, id
        LIMIT ${limit}`,
      [`{${vector.join(',')}}`, ...params],
    )) as ChunkCandidate[];
  }

  /** The chunks that match the words of `text` (web-search syntax), best first. */
  async matching(
    em: EntityManager,
    text: string,
    query: CandidateQuery,
  ): Promise<ChunkCandidate[]> {
    const { where, params } = filters(query, 2);
    params.push(query.limit);
    return (await em.query(
      `SELECT ${CANDIDATE_COLUMNS}, NULL::float8 AS distance
         FROM rag.chunks, websearch_to_tsquery('english'::regconfig, $1) AS q
        WHERE collection_id = ${collectionLiteral(query.collectionId)} AND tsv @@ q AND ${where}
        ORDER BY ts_rank_cd(tsv, q) DESC, id
        LIMIT $${params.length + 1}`,
      [text, ...params],
    )) as ChunkCandidate[];
  }

  /** The source names of these documents, by id. */
  async sourceNames(
    em: EntityManager,
    documentIds: readonly string[],
  ): Promise<Map<string, string>> {
    if (documentIds.length === 0) return new Map();
    const rows = (await em.query(
      `SELECT id, source_name AS "sourceName" FROM rag.documents WHERE id = ANY($1::uuid[])`,
      [documentIds],
    )) as { id: string; sourceName: string }[];
    return new Map(rows.map((r) => [r.id, r.sourceName]));
  }
}

function collectionLiteral(id: string): string {
  if (!UUID.test(id)) throw new Error('collection id must be a uuid');
  return `${escapeLiteral(id.toLowerCase())}::uuid`;
}

/** The filters of a candidate query as SQL over parameters numbered from `first`. */
function filters(query: CandidateQuery, first: number): { where: string; params: unknown[] } {
  const params: unknown[] = [query.classifications];
  const where = [`classification = ANY($${first}::text[])`];
  if (query.metadata && Object.keys(query.metadata).length > 0) {
    params.push(JSON.stringify(query.metadata));
    where.push(`metadata @> $${first + params.length - 1}::jsonb`);
  }
  return { where: where.join(' AND '), params };
}
