import type { MigrationInterface, QueryRunner } from 'typeorm';
import { runtimeRole, tenantIsolationSql } from '@lattice/database';

/**
 * Collections, documents and chunks, under row-level security.
 *
 * Embeddings are pgvector `vector`s where the server has the extension (production does; the
 * chart says so) and `real[]` where it has none (the embedded PostgreSQL of `npm start`), searched
 * then by an exact scan. A database set with `lattice.rag_vector_extension = 'off'` keeps to
 * `real[]` even where pgvector is there. The column has no fixed dimension: each collection
 * records its model and dimension, and its own partial HNSW index casts to that dimension
 * (`rag.create_collection_vector_index`), so a small tenant's search is never a filter over a
 * large tenant's index.
 */
export class RagInitial1768000000000 implements MigrationInterface {
  name = 'RagInitial1768000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$
      BEGIN
        IF coalesce(current_setting('lattice.rag_vector_extension', true), '') <> 'off'
           AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
          BEGIN
            CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;
          EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'vector is available but this role may not create it: exact-scan search';
          END;
        END IF;
      END $$`);
    const [{ vector }] = (await q.query(
      `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')
          AND coalesce(current_setting('lattice.rag_vector_extension', true), '') <> 'off' AS vector`,
    )) as [{ vector: boolean }];

    await q.query(`
      CREATE TABLE rag.collections (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        owner_id text NOT NULL,
        name text NOT NULL,
        description text,
        embedding_model text NOT NULL,
        embedding_dimension integer NOT NULL CHECK (embedding_dimension BETWEEN 1 AND 2000),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE UNIQUE INDEX collections_tenant_name ON rag.collections (tenant_id, name)`,
    );
    // the key documents and chunks refer to, tenant first: no row can point into another tenant
    await q.query(`CREATE UNIQUE INDEX collections_tenant_id ON rag.collections (tenant_id, id)`);
    await q.query(
      `CREATE INDEX collections_tenant_created ON rag.collections (tenant_id, created_at, id)`,
    );
    for (const sql of tenantIsolationSql('rag', 'collections')) await q.query(sql);

    await q.query(`
      CREATE TABLE rag.documents (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        collection_id uuid NOT NULL,
        owner_id text NOT NULL,
        source_name text NOT NULL,
        media_type text NOT NULL,
        content_hash text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
        classification text NOT NULL
          CHECK (classification IN ('public', 'internal', 'confidential', 'restricted')),
        metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
        status text NOT NULL CHECK (status IN ('pending', 'processing', 'ready', 'failed')),
        size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
        -- the content until ingest has chunked it; cleared then
        body bytea,
        chunk_count integer NOT NULL DEFAULT 0 CHECK (chunk_count >= 0),
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (tenant_id, collection_id)
          REFERENCES rag.collections (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query(
      `CREATE UNIQUE INDEX documents_content ON rag.documents (tenant_id, collection_id, content_hash)`,
    );
    await q.query(`CREATE UNIQUE INDEX documents_tenant_id ON rag.documents (tenant_id, id)`);
    await q.query(
      `CREATE INDEX documents_collection_created
         ON rag.documents (tenant_id, collection_id, created_at, id)`,
    );
    for (const sql of tenantIsolationSql('rag', 'documents')) await q.query(sql);

    // classification and metadata are the document's, copied so that a search filters the
    // chunks it scans without a join (which would keep the planner off the vector index)
    await q.query(`
      CREATE TABLE rag.chunks (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        collection_id uuid NOT NULL,
        document_id uuid NOT NULL,
        ordinal integer NOT NULL CHECK (ordinal >= 0),
        text text NOT NULL,
        token_count integer NOT NULL CHECK (token_count >= 0),
        classification text NOT NULL
          CHECK (classification IN ('public', 'internal', 'confidential', 'restricted')),
        metadata jsonb NOT NULL DEFAULT '{}',
        dimension integer NOT NULL,
        embedding ${vector ? 'public.vector' : 'real[]'} NOT NULL,
        tsv tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, text)) STORED,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (dimension = ${vector ? 'public.vector_dims(embedding)' : 'cardinality(embedding)'}),
        FOREIGN KEY (tenant_id, collection_id)
          REFERENCES rag.collections (tenant_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, document_id)
          REFERENCES rag.documents (tenant_id, id) ON DELETE CASCADE
      )`);
    await q.query(
      `CREATE UNIQUE INDEX chunks_document_ordinal
         ON rag.chunks (tenant_id, document_id, ordinal)`,
    );
    await q.query(`CREATE INDEX chunks_collection ON rag.chunks (tenant_id, collection_id)`);
    // GIN cannot lead with a uuid without btree_gin; tenant and collection filter its matches
    await q.query(`CREATE INDEX chunks_tsv ON rag.chunks USING gin (tsv)`);
    for (const sql of tenantIsolationSql('rag', 'chunks')) await q.query(sql);

    const role = runtimeRole('rag');
    if (vector) {
      // The runtime role owns no table, so it cannot index one: the owner does it for the
      // collection of the caller's tenant (checked here: a superuser owner skips row security).
      await q.query(`
        CREATE FUNCTION rag.create_collection_vector_index(p_collection uuid) RETURNS text
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        DECLARE
          dim integer;
          index_name text := 'chunks_hnsw_' || replace(p_collection::text, '-', '');
        BEGIN
          SELECT embedding_dimension INTO dim FROM rag.collections
           WHERE id = p_collection
             AND tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid;
          IF dim IS NULL THEN
            RAISE EXCEPTION 'no such collection' USING ERRCODE = 'P0002';
          END IF;
          EXECUTE format(
            'CREATE INDEX IF NOT EXISTS %I ON rag.chunks USING hnsw ((embedding::vector(%s)) vector_cosine_ops) WHERE collection_id = %L',
            index_name, dim, p_collection);
          RETURN index_name;
        END $$`);
      await q.query(`
        CREATE FUNCTION rag.drop_collection_vector_index(p_collection uuid) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
          IF NOT EXISTS (SELECT 1 FROM rag.collections
                          WHERE id = p_collection
                            AND tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid) THEN
            RAISE EXCEPTION 'no such collection' USING ERRCODE = 'P0002';
          END IF;
          EXECUTE format('DROP INDEX IF EXISTS rag.%I',
            'chunks_hnsw_' || replace(p_collection::text, '-', ''));
        END $$`);
      for (const fn of ['create_collection_vector_index', 'drop_collection_vector_index']) {
        await q.query(`REVOKE ALL ON FUNCTION rag.${fn}(uuid) FROM PUBLIC`);
        await q.query(`GRANT EXECUTE ON FUNCTION rag.${fn}(uuid) TO ${role}`);
      }
    } else {
      // the exact scan's measure where pgvector is missing: pgvector's cosine distance
      await q.query(`
        CREATE FUNCTION rag.cosine_distance(a real[], b real[]) RETURNS double precision
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
          SELECT CASE WHEN sum(x * x) = 0 OR sum(y * y) = 0 THEN 'NaN'::double precision
                      ELSE 1 - sum(x::double precision * y) / (sqrt(sum(x::double precision * x)) * sqrt(sum(y::double precision * y)))
                 END
            FROM unnest(a, b) AS t(x, y)
        $$`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS rag.cosine_distance(real[], real[])`);
    await q.query(`DROP FUNCTION IF EXISTS rag.drop_collection_vector_index(uuid)`);
    await q.query(`DROP FUNCTION IF EXISTS rag.create_collection_vector_index(uuid)`);
    await q.query(`DROP TABLE rag.chunks`);
    await q.query(`DROP TABLE rag.documents`);
    await q.query(`DROP TABLE rag.collections`);
  }
}
