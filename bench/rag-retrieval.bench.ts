/**
 * `npm run bench:rag-retrieval`: retrieval of the RAG service on the local PostgreSQL with
 * pgvector (or the exact scan where it has none), in process, on a fresh database. Ten tenants,
 * each with one collection: the largest holds BENCH_RAG_CHUNKS chunks (default 100,000), the
 * other nine from a fifth of that down to a thousandth. Vectors are seeded, clustered (a mixture of 200
 * Gaussians on the sphere, as embeddings of real text cluster), BENCH_RAG_DIM dimensions
 * (default 128). Prints, for the largest and the smallest tenant:
 *   (1) search latency p50/p95 of `RetrievalService.search` (HNSW on the collection's own index,
 *       iterative scan on; vector only and fused with full-text search), against the exact scan;
 *   (2) recall@10 against the exact scan;
 *   (3) the multi-tenancy trap: the smallest tenant searched through one HNSW index over every
 *       tenant's chunks, filtered by tenant afterwards (no iterative scan), the way a single
 *       global index would serve it: its recall@10 and how many of the 10 places it fills.
 * Figures only, never pass/fail. BENCH_RAG_QUERIES sets the queries per figure (default 200).
 */
import { createHash, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { loadConfig } from '@lattice/config';
import { TenantScope } from '@lattice/database';
import { createLogger } from '@lattice/logging';
import { type RequestContext } from '@lattice/request-context';
import {
  LocalNatsServer,
  TEST_APP_PASSWORD,
  TEST_INTERNAL_SECRET,
  createTestDatabase,
  postgresAnswers,
  testContextEnv,
} from '@lattice/testing';
import { DataSource } from 'typeorm';
import { CollectionService } from '../apps/rag/src/collections/collection.service';
import { DocumentRepository } from '../apps/rag/src/documents/document.repository';
import { DocumentIngestStore } from '../apps/rag/src/documents/document-ingest.store';
import { createRagApp } from '../apps/rag/src/rag.app';
import { ragConfigSpec } from '../apps/rag/src/rag.config';
import { RetrievalService } from '../apps/rag/src/retrieval/retrieval.service';
import { runBench } from './support/bench-platform';
import { say, sayMachine } from './support/report';

const LOCAL_PG = 'postgres://postgres@127.0.0.1:5432/postgres';
const LARGEST = Number(process.env.BENCH_RAG_CHUNKS ?? 100_000) || 100_000;
const DIM = Number(process.env.BENCH_RAG_DIM ?? 128) || 128;
const QUERIES = Number(process.env.BENCH_RAG_QUERIES ?? 200) || 200;
/** The ten tenants' sizes: the largest, and nine down to a thousandth of it (at least 20). */
const SIZES = [1, 0.2, 0.1, 0.05, 0.025, 0.01, 0.005, 0.003, 0.002, 0.001].map((f) =>
  Math.max(20, Math.round(LARGEST * f)),
);
const CLUSTERS = 200;
const PER_DOCUMENT = 1_000;
const WORDS = [
  'travel',
  'policy',
  'invoice',
  'holiday',
  'security',
  'laptop',
  'contract',
  'payroll',
  'onboarding',
  'incident',
  'backup',
  'expense',
  'vendor',
  'audit',
  'roadmap',
];

/** mulberry32: seeded, so every run sees the same vectors. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function gaussian(next: () => number): number {
  return Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
}

const normalise = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

function mixture(seed: number) {
  const next = random(seed);
  const centres = Array.from({ length: CLUSTERS }, () =>
    normalise(Array.from({ length: DIM }, () => gaussian(next))),
  );
  return () => {
    const c = centres[Math.floor(next() * CLUSTERS)]!;
    return normalise(c.map((x) => x + gaussian(next) * (0.6 / Math.sqrt(DIM)) * 3));
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

function recallOf(found: string[], truth: string[]): number {
  const want = new Set(truth);
  return truth.length ? found.filter((id) => want.has(id)).length / truth.length : 1;
}

runBench(async (cleanup) => {
  sayMachine();
  const serverUrl = process.env.DATABASE_URL ?? LOCAL_PG;
  if (!(await postgresAnswers(serverUrl)))
    throw new Error(`no PostgreSQL at ${serverUrl}: start one or set DATABASE_URL`);
  const database = await createTestDatabase(serverUrl);
  cleanup.add('database', database.drop);
  let natsUrl = process.env.NATS_URL;
  if (!natsUrl) {
    const nats = await LocalNatsServer.start();
    cleanup.add('nats', () => nats.stop());
    natsUrl = nats.url;
  }
  const config = loadConfig(ragConfigSpec, {
    NATS_URL: natsUrl,
    LATTICE_NAMESPACE: `bench-${randomUUID().slice(0, 8)}`,
    LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
    DATABASE_URL: database.url,
    DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
    LOG_LEVEL: 'warn',
    RAG_HTTP_PORT: '0',
    // the chunks are written here, with vectors of the bench's own: no ingest jobs
    RAG_INGEST_WORKER: 'false',
    ...testContextEnv('rag'),
  });
  const app = await createRagApp(config, createLogger('rag-bench', 'warn'), { migrate: true });
  cleanup.add('rag', () => app.close());
  const collections = app.get(CollectionService);
  const scope = app.get(TenantScope);
  const documents = app.get(DocumentRepository);
  const store = app.get(DocumentIngestStore);
  const retrieval = app.get(RetrievalService);
  say(
    `search: ${retrieval.mode}; ${SIZES.length} tenants of ${SIZES.join(', ')} chunks, ${DIM} dimensions, ${QUERIES} queries per figure`,
  );

  const draw = mixture(42);
  const nextWord = random(7);
  const tenants: { tenantId: string; collectionId: string; size: number }[] = [];
  const loadStarted = performance.now();
  for (const size of SIZES) {
    const tenantId = randomUUID();
    const ctx: RequestContext = {
      tenantId,
      actor: { type: 'user', id: `bench-${tenantId}`, roles: ['tenant-admin'] },
      requestId: randomUUID(),
    };
    const collection = await collections.create(ctx, {
      name: 'bench',
      embeddingModel: 'bench-embedder',
      embeddingDimension: DIM,
    });
    for (let start = 0; start < size; start += PER_DOCUMENT) {
      const count = Math.min(PER_DOCUMENT, size - start);
      // stored as the service stores a posted document, without the storage quota and its
      // ingest job: the bench writes the chunks itself
      const body = Buffer.from(`bench document ${start} of ${tenantId}`);
      const { row: document } = await scope.run(tenantId, (em) =>
        documents.insertOnce(em, {
          id: randomUUID(),
          tenantId,
          collectionId: collection.id,
          ownerId: ctx.actor.id,
          sourceName: `doc-${start}.txt`,
          mediaType: 'text/plain',
          contentHash: createHash('sha256').update(body).digest('hex'),
          classification: 'internal',
          metadata: { part: start / PER_DOCUMENT },
          sizeBytes: body.length,
          body,
        }),
      );
      await store.begin(tenantId, collection.id, document.id);
      await store.complete(tenantId, collection.id, document.id, {
        embeddingModel: 'bench-embedder',
        chunks: Array.from({ length: count }, (_, ordinal) => ({
          id: randomUUID(),
          ordinal,
          text: Array.from({ length: 12 }, () => WORDS[Math.floor(nextWord() * WORDS.length)]).join(
            ' ',
          ),
          tokenCount: 12,
          embedding: draw(),
        })),
      });
    }
    tenants.push({ tenantId, collectionId: collection.id, size });
  }
  const chunksLoaded = SIZES.reduce((a, b) => a + b, 0);
  say(
    `loaded ${chunksLoaded} chunks (HNSW kept up on insert) in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`,
  );

  const queries = Array.from({ length: QUERIES }, draw);
  const largest = tenants[0]!;
  const smallest = tenants[tenants.length - 1]!;
  say('');
  say('tenant    chunks   search                 p50 ms   p95 ms   recall@10');
  for (const tenant of [largest, smallest]) {
    const search = async (exact: boolean, text?: string) => {
      const times: number[] = [];
      const results: string[][] = [];
      for (const vector of queries) {
        const t0 = performance.now();
        const { hits } = await retrieval.search(tenant.tenantId, {
          collectionId: tenant.collectionId,
          vector,
          text,
          topK: 10,
          classifications: ['internal'],
          exact,
        });
        times.push(performance.now() - t0);
        results.push(hits.map((h) => h.chunkId));
      }
      times.sort((a, b) => a - b);
      return { times, results };
    };
    // warm the caches once before measuring
    await search(false);
    const exact = await search(true);
    const approximate = await search(false);
    const hybrid = await search(false, 'travel policy');
    const recall =
      approximate.results.reduce((sum, r, i) => sum + recallOf(r, exact.results[i]!), 0) / QUERIES;
    const row = (label: string, r: { times: number[] }, rc: string) =>
      say(
        `${tenant === largest ? 'largest ' : 'smallest'}  ${String(tenant.size).padStart(7)}   ${label.padEnd(20)} ${percentile(r.times, 50).toFixed(2).padStart(7)}  ${percentile(r.times, 95).toFixed(2).padStart(7)}   ${rc}`,
      );
    row(
      retrieval.mode === 'pgvector-hnsw' ? 'hnsw (own index)' : 'exact scan',
      approximate,
      recall.toFixed(3),
    );
    row('hnsw + full text', hybrid, '-');
    row('exact scan', exact, '1 (reference)');
  }

  if (retrieval.mode === 'pgvector-hnsw') {
    // the trap: one index over every tenant's chunks, tenant filter applied after the scan
    const owner = new Client({ connectionString: database.url });
    await owner.connect();
    // with the tenant-leading btrees in place the planner would walk those and sort (exact);
    // without them it serves the tenant as a single global HNSW index does
    await owner.query(`DROP INDEX rag.chunks_collection`);
    await owner.query(`ALTER TABLE rag.chunks DROP CONSTRAINT IF EXISTS chunks_pkey CASCADE`);
    await owner.query(`DROP INDEX IF EXISTS rag.chunks_document_ordinal`);
    await owner.query(
      `CREATE INDEX chunks_hnsw_everyone ON rag.chunks USING hnsw ((embedding::vector(${DIM})) vector_cosine_ops)`,
    );
    await owner.end();
    const runtimeUrl = new URL(database.url);
    runtimeUrl.username = 'lattice_rag';
    runtimeUrl.password = TEST_APP_PASSWORD;
    const runtime = await new DataSource({
      type: 'postgres',
      url: runtimeUrl.toString(),
    }).initialize();
    cleanup.add('runtime pool', () => runtime.destroy());
    const scope = new TenantScope(runtime);
    for (const iterative of ['off', 'relaxed_order']) {
      let recall = 0;
      let filled = 0;
      const exact = await Promise.all(
        queries.map((vector) =>
          retrieval.search(smallest.tenantId, {
            collectionId: smallest.collectionId,
            vector,
            topK: 10,
            classifications: ['internal'],
            exact: true,
          }),
        ),
      );
      for (const [i, vector] of queries.entries()) {
        const rows = (await scope.run(smallest.tenantId, async (em) => {
          await em.query(`SELECT set_config('hnsw.ef_search', '100', true)`);
          await em.query(`SELECT set_config('hnsw.iterative_scan', $1, true)`, [iterative]);
          // as the service does: the ordered index scan, not a sort of the tenant's rows
          await em.query(
            `SELECT set_config('enable_sort', 'off', true), set_config('jit', 'off', true)`,
          );
          // no collection filter: only the index over everyone matches; RLS keeps the tenant's
          return em.query(
            `SELECT id FROM rag.chunks
              ORDER BY (embedding::vector(${DIM})) <=> $1::vector(${DIM}) LIMIT 10`,
            [`[${vector.join(',')}]`],
          );
        })) as { id: string }[];
        filled += rows.length;
        recall += recallOf(
          rows.map((r) => r.id),
          exact[i]!.hits.map((h) => h.chunkId),
        );
      }
      say(
        `smallest through one index over all tenants, iterative scan ${iterative}: recall@10 ${(recall / QUERIES).toFixed(3)}, places filled ${(filled / QUERIES).toFixed(1)} of 10`,
      );
    }
  }
});
