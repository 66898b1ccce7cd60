import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  RagCollectionsCreate,
  RagDocumentsCreate,
  RagErrorReason,
  RagRetrieve,
  type Classification,
} from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { eventually } from '@lattice/testing';
import { DocumentIngestStore } from '../documents/document-ingest.store';
import {
  pgvectorAvailableSync,
  startRagTestBed,
  tenantMember,
  unitVector,
  type RagTestBed,
} from '../../test/rag.test-bed';
import { RetrievalService } from './retrieval.service';

const DIM = 16;
const MODEL = 'test-embedder';

interface Seeded {
  collectionId: string;
  /** Every chunk's vector, by chunk id. */
  vectors: Map<string, number[]>;
}

/** A collection of `documents` documents of `perDocument` chunks each, embedded at random. */
async function seed(
  bed: RagTestBed,
  tenantId: string,
  options: {
    documents: number;
    perDocument: number;
    seed: number;
    classification?: Classification;
    metadata?: (doc: number) => Record<string, unknown>;
    text?: (doc: number, chunk: number) => string;
  },
): Promise<Seeded> {
  const admin = tenantMember(tenantId);
  const collection = await bed.rpc.request(
    RagCollectionsCreate,
    { name: `c-${randomUUID().slice(0, 8)}`, embeddingModel: MODEL, embeddingDimension: DIM },
    admin,
  );
  const store = bed.app.get(DocumentIngestStore);
  const vectors = new Map<string, number[]>();
  for (let d = 0; d < options.documents; d++) {
    const { document } = await bed.rpc.request(
      RagDocumentsCreate,
      {
        collectionId: collection.id,
        sourceName: `doc-${d}.txt`,
        mediaType: 'text/plain',
        content: `document ${d} of seed ${options.seed} in ${collection.id}`,
        classification: options.classification ?? 'internal',
        metadata: options.metadata?.(d) ?? {},
      },
      admin,
    );
    const work = await store.begin(tenantId, collection.id, document.id);
    expect(work?.embeddingDimension).toBe(DIM);
    const chunks = Array.from({ length: options.perDocument }, (_, ordinal) => {
      const id = randomUUID();
      const embedding = unitVector(DIM, options.seed * 1_000_003 + d * 10_007 + ordinal + 1);
      vectors.set(id, embedding);
      return {
        id,
        ordinal,
        text: options.text?.(d, ordinal) ?? `chunk ${ordinal} of document ${d}`,
        tokenCount: 5,
        embedding,
      };
    });
    await store.complete(tenantId, collection.id, document.id, { embeddingModel: MODEL, chunks });
  }
  return { collectionId: collection.id, vectors };
}

const cosineDistance = (a: number[], b: number[]) => {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return 1 - dot; // unit vectors
};

/** The ids of the k chunks nearest `query`, computed here, outside the database. */
function nearestHere(vectors: Map<string, number[]>, query: number[], k: number): string[] {
  return [...vectors]
    .map(([id, v]) => [id, cosineDistance(v, query)] as const)
    .sort((a, b) => a[1] - b[1])
    .slice(0, k)
    .map(([id]) => id);
}

function recall(found: readonly string[], truth: readonly string[]): number {
  const want = new Set(truth);
  return found.filter((id) => want.has(id)).length / truth.length;
}

/** What both search paths must do: the same behaviour, on pgvector and on the exact scan. */
function retrievalBehaviour(vector: 'auto' | 'off', expectedMode: string) {
  let bed: RagTestBed;
  let small: string;
  let big: string;
  let smallSeed: Seeded;
  let bigSeed: Seeded;

  beforeAll(async () => {
    bed = await startRagTestBed({ vector });
    small = await bed.newTenant();
    big = await bed.newTenant();
    bigSeed = await seed(bed, big, { documents: 6, perDocument: 250, seed: 7 });
    smallSeed = await seed(bed, small, { documents: 2, perDocument: 10, seed: 11 });
  }, 180_000);
  afterAll(() => bed?.close());

  it(`searches by ${expectedMode}`, async () => {
    const reply = await bed.rpc.request(
      RagRetrieve,
      { collectionId: smallSeed.collectionId, vector: unitVector(DIM, 99), topK: 3 },
      tenantMember(small),
    );
    expect(reply.search).toBe(expectedMode);
    expect(reply.embeddingModel).toBe(MODEL);
  });

  it('finds for a small tenant beside a large one the same ten chunks an exact scan finds', async () => {
    const retrieval = bed.app.get(RetrievalService);
    const recalls: number[] = [];
    for (let q = 0; q < 10; q++) {
      const query = unitVector(DIM, 5_000 + q);
      const truth = nearestHere(smallSeed.vectors, query, 10);
      const reply = await bed.rpc.request(
        RagRetrieve,
        { collectionId: smallSeed.collectionId, vector: query, topK: 10 },
        tenantMember(small),
      );
      recalls.push(
        recall(
          reply.hits.map((h) => h.chunkId),
          truth,
        ),
      );
      const exact = await retrieval.search(small, {
        collectionId: smallSeed.collectionId,
        vector: query,
        topK: 10,
        classifications: ['public', 'internal'],
        exact: true,
      });
      expect(exact.hits.map((h) => h.chunkId)).toEqual(truth);
    }
    // every query answers ten of the tenant's own twenty, the ones an exact scan answers
    expect(recalls).toEqual(Array(10).fill(1));
  });

  it('finds for the large tenant nearly all of the ten nearest of its 1,500', async () => {
    const recalls: number[] = [];
    for (let q = 0; q < 10; q++) {
      const query = unitVector(DIM, 7_000 + q);
      const reply = await bed.rpc.request(
        RagRetrieve,
        { collectionId: bigSeed.collectionId, vector: query, topK: 10 },
        tenantMember(big),
      );
      expect(reply.hits).toHaveLength(10);
      recalls.push(
        recall(
          reply.hits.map((h) => h.chunkId),
          nearestHere(bigSeed.vectors, query, 10),
        ),
      );
    }
    const mean = recalls.reduce((a, b) => a + b, 0) / recalls.length;
    expect(mean).toBeGreaterThanOrEqual(0.9);
  });

  if (expectedMode === 'pgvector-hnsw')
    it('searches the large tenant through its collection’s own HNSW index', async () => {
      const index = `chunks_hnsw_${bigSeed.collectionId.replace(/-/g, '')}`;
      const scans = async () =>
        Number(
          (
            (await bed.ownerDb.query(
              `SELECT coalesce(sum(idx_scan), 0) AS n FROM pg_stat_user_indexes
                WHERE schemaname = 'rag' AND indexrelname = $1`,
              [index],
            )) as [{ n: string }]
          )[0].n,
        );
      const before = await scans();
      for (let q = 0; q < 3; q++)
        await bed.rpc.request(
          RagRetrieve,
          { collectionId: bigSeed.collectionId, vector: unitVector(DIM, 9_000 + q), topK: 10 },
          tenantMember(big),
        );
      // a backend reports its index scans when it goes idle, within about ten seconds
      await eventually(async () => expect(await scans()).toBeGreaterThanOrEqual(before + 3), {
        timeoutMs: 25_000,
        intervalMs: 250,
      });
    }, 30_000);

  it('ranks by distance: the first hit is the nearest chunk, its distance as computed here', async () => {
    const query = unitVector(DIM, 4242);
    const reply = await bed.rpc.request(
      RagRetrieve,
      { collectionId: smallSeed.collectionId, vector: query, topK: 5 },
      tenantMember(small),
    );
    const [nearest] = nearestHere(smallSeed.vectors, query, 1);
    expect(reply.hits[0]!.chunkId).toBe(nearest);
    expect(reply.hits[0]!.distance).toBeCloseTo(
      cosineDistance(smallSeed.vectors.get(nearest!)!, query),
      4,
    );
    expect(reply.hits[0]!.vectorRank).toBe(1);
    expect(reply.hits[0]!.sourceName).toMatch(/^doc-\d\.txt$/);
  });

  it('shows a tenant none of another tenant’s chunks, even as another tenant asks for its collection', async () => {
    await expect(
      bed.rpc.request(
        RagRetrieve,
        { collectionId: bigSeed.collectionId, vector: unitVector(DIM, 1), topK: 10 },
        tenantMember(small),
      ),
    ).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });

  it('refuses a query vector of another dimension, and of another model, with their reasons', async () => {
    const call = (extra: object) =>
      bed.rpc.request(
        RagRetrieve,
        { collectionId: smallSeed.collectionId, vector: unitVector(DIM, 1), topK: 3, ...extra },
        tenantMember(small),
      );
    await expect(call({ vector: unitVector(DIM + 1, 1) })).rejects.toMatchObject({
      code: ErrorCode.ValidationFailed,
      details: { reason: RagErrorReason.EmbeddingDimensionMismatch },
    });
    await expect(call({ embeddingModel: 'another-model' })).rejects.toMatchObject({
      code: ErrorCode.Conflict,
      details: { reason: RagErrorReason.EmbeddingModelMismatch },
    });
    await expect(call({ vector: [] })).rejects.toMatchObject({ code: ErrorCode.ValidationFailed });
  });

  it('refuses chunks embedded by another model or at another dimension, writing none', async () => {
    const admin = tenantMember(small);
    const { document } = await bed.rpc.request(
      RagDocumentsCreate,
      {
        collectionId: smallSeed.collectionId,
        sourceName: 'mixed.txt',
        mediaType: 'text/plain',
        content: `mixed ${randomUUID()}`,
      },
      admin,
    );
    const store = bed.app.get(DocumentIngestStore);
    const chunk = (dimension: number) => ({
      id: randomUUID(),
      ordinal: 0,
      text: 'x',
      tokenCount: 1,
      embedding: unitVector(dimension, 3),
    });
    await expect(
      store.complete(small, smallSeed.collectionId, document.id, {
        embeddingModel: 'another-model',
        chunks: [chunk(DIM)],
      }),
    ).rejects.toMatchObject({ code: ErrorCode.Conflict });
    await expect(
      store.complete(small, smallSeed.collectionId, document.id, {
        embeddingModel: MODEL,
        chunks: [chunk(DIM), { ...chunk(DIM * 2), ordinal: 1 }],
      }),
    ).rejects.toMatchObject({ code: ErrorCode.ValidationFailed });
    const [{ count }] = (await bed.ownerDb.query(
      `SELECT count(*)::int AS count FROM rag.chunks WHERE document_id = $1`,
      [document.id],
    )) as [{ count: number }];
    expect(count).toBe(0);
  });
}

function clearanceAndFilters(vector: 'auto' | 'off') {
  let bed: RagTestBed;
  let tenant: string;
  let collectionId: string;
  const classified: Record<string, Classification> = {};

  beforeAll(async () => {
    bed = await startRagTestBed({ vector });
    tenant = await bed.newTenant();
    const levels: Classification[] = ['public', 'internal', 'confidential', 'restricted'];
    const admin = tenantMember(tenant);
    const collection = await bed.rpc.request(
      RagCollectionsCreate,
      { name: 'handbook', embeddingModel: MODEL, embeddingDimension: DIM },
      admin,
    );
    collectionId = collection.id;
    const store = bed.app.get(DocumentIngestStore);
    for (const [i, level] of levels.entries()) {
      for (const team of ['red', 'blue']) {
        const { document } = await bed.rpc.request(
          RagDocumentsCreate,
          {
            collectionId,
            sourceName: `${level}-${team}.md`,
            mediaType: 'text/markdown',
            content: `${level} ${team}`,
            classification: level,
            metadata: { team, year: 2026, tags: ['policy'] },
          },
          admin,
        );
        classified[document.id] = level;
        await store.begin(tenant, collectionId, document.id);
        await store.complete(tenant, collectionId, document.id, {
          embeddingModel: MODEL,
          chunks: Array.from({ length: 3 }, (_, ordinal) => ({
            id: randomUUID(),
            ordinal,
            text: `the ${team} team travel policy, ${level} part ${ordinal}`,
            tokenCount: 8,
            embedding: unitVector(DIM, i * 100 + ordinal + (team === 'red' ? 1 : 50)),
          })),
        });
      }
    }
  }, 120_000);
  afterAll(() => bed?.close());

  const ask = (roles: string[], extra: object = {}) =>
    bed.rpc.request(
      RagRetrieve,
      { collectionId, vector: unitVector(DIM, 12345), text: 'travel policy', topK: 100, ...extra },
      tenantMember(tenant, roles),
    );

  it.each([
    [['viewer'], 'internal', ['public', 'internal']],
    [['analyst'], 'confidential', ['public', 'internal', 'confidential']],
    [['tenant-admin'], 'restricted', ['public', 'internal', 'confidential', 'restricted']],
  ])('shows %j (clearance %s) only the classifications %j', async (roles, clearance, levels) => {
    const reply = await ask(roles);
    expect(reply.clearance).toBe(clearance);
    expect(new Set(reply.hits.map((h) => h.classification))).toEqual(new Set(levels));
    for (const hit of reply.hits) expect(levels).toContain(classified[hit.documentId]);
  });

  it('narrows to the classifications asked for, never past the clearance', async () => {
    const reply = await ask(['viewer'], {
      filters: { classifications: ['internal', 'restricted'] },
    });
    expect(new Set(reply.hits.map((h) => h.classification))).toEqual(new Set(['internal']));
  });

  it('filters by metadata containment', async () => {
    const reply = await ask(['tenant-admin'], { filters: { metadata: { team: 'red' } } });
    expect(reply.hits).toHaveLength(12);
    expect(reply.hits.every((h) => h.metadata.team === 'red')).toBe(true);
    const none = await ask(['tenant-admin'], { filters: { metadata: { team: 'green' } } });
    expect(none.hits).toEqual([]);
    const nested = await ask(['tenant-admin'], { filters: { metadata: { tags: ['policy'] } } });
    expect(nested.hits).toHaveLength(24);
  });

  it('takes SQL in a metadata filter as data', async () => {
    const reply = await ask(['tenant-admin'], {
      filters: { metadata: { "team') OR true --": 'x' } },
    });
    expect(reply.hits).toEqual([]);
  });

  it('fuses full-text matches: a chunk found by both searches carries both ranks', async () => {
    const reply = await ask(['tenant-admin'], { text: 'red team', topK: 5 });
    expect(reply.hits[0]!.textRank).not.toBeNull();
    expect(reply.hits[0]!.vectorRank).not.toBeNull();
    for (let i = 1; i < reply.hits.length; i++)
      expect(reply.hits[i - 1]!.score).toBeGreaterThanOrEqual(reply.hits[i]!.score);
  });

  it('keeps a query that forgets its tenant filter, as the runtime role, to the tenant’s own chunks', async () => {
    const other = await bed.newTenant();
    const seeded = await seed(bed, other, { documents: 1, perDocument: 4, seed: 3 });
    expect(seeded.vectors.size).toBe(4);
    const scope = new TenantScope(bed.runtimeDb);
    const seen = await scope.run(other, (em) =>
      em.query(`SELECT tenant_id AS "tenantId" FROM rag.chunks`),
    );
    expect(seen).toHaveLength(4);
    expect(new Set(seen.map((r: { tenantId: string }) => r.tenantId))).toEqual(new Set([other]));
    const unscoped = await bed.runtimeDb.query(`SELECT count(*)::int AS n FROM rag.chunks`);
    expect(unscoped[0].n).toBe(0);
  });
}

const pgvector = pgvectorAvailableSync();
(pgvector ? describe : describe.skip)(
  `retrieval on pgvector HNSW${pgvector ? '' : ' (skipped: the vector extension is not available; run tools/pgvector/ensure-pgvector.sh)'}`,
  () => {
    retrievalBehaviour('auto', 'pgvector-hnsw');
    describe('clearance and filters', () => clearanceAndFilters('auto'));
  },
);

describe('retrieval by exact scan, without pgvector', () => {
  retrievalBehaviour('off', 'exact-scan');
  describe('clearance and filters', () => clearanceAndFilters('off'));
});
