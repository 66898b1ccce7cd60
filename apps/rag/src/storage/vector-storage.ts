import type { DataSource } from 'typeorm';
import type { VectorSearchMode } from '@lattice/contracts';

/** How this database keeps and searches embeddings, found once at start from its schema. */
export interface VectorStorage {
  /** `pgvector-hnsw`: a `vector` column with a partial HNSW index per collection. */
  mode: VectorSearchMode;
  /** The installed pgvector's version, or null without it. */
  pgvectorVersion: string | null;
  /** pgvector 0.8 and later go on scanning the index when filters drop candidates. */
  iterativeScan: boolean;
}

export const VECTOR_STORAGE = Symbol('VECTOR_STORAGE');

/**
 * Reads the type of `rag.chunks.embedding`: what the migration chose is what the service
 * searches, whatever the server offers now (a server that gained pgvector later keeps its
 * `real[]` column until a migration converts it).
 */
export async function detectVectorStorage(dataSource: DataSource): Promise<VectorStorage> {
  const [column] = (await dataSource.query(
    `SELECT format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_attribute a
      WHERE a.attrelid = 'rag.chunks'::regclass AND a.attname = 'embedding'`,
  )) as { type: string }[];
  const [extension] = (await dataSource.query(
    `SELECT extversion AS version FROM pg_extension WHERE extname = 'vector'`,
  )) as { version: string }[];
  const vector = column?.type === 'vector' && extension !== undefined;
  const version = extension?.version ?? null;
  return {
    mode: vector ? 'pgvector-hnsw' : 'exact-scan',
    pgvectorVersion: version,
    iterativeScan: vector && version !== null && atLeast(version, [0, 8]),
  };
}

function atLeast(version: string, [major, minor]: [number, number]): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/** A vector as pgvector's text input: `[0.1,0.2,...]`. */
export function vectorLiteral(vector: readonly number[]): string {
  return `[${vector.join(',')}]`;
}
