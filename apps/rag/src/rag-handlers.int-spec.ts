import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  RagCollectionsCreate,
  RagCollectionsDelete,
  RagCollectionsGet,
  RagCollectionsList,
  RagDocumentsCreate,
  RagDocumentsDelete,
  RagDocumentsGet,
  RagDocumentsList,
  RagErrorReason,
} from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { startRagTestBed, tenantMember, type RagTestBed } from '../test/rag.test-bed';

describe('rag.v1 collections and documents over NATS', () => {
  let bed: RagTestBed;
  let a: string;
  let b: string;

  beforeAll(async () => {
    bed = await startRagTestBed();
    a = await bed.newTenant();
    b = await bed.newTenant();
  }, 60_000);
  afterAll(() => bed?.close(), 30_000);

  const newCollection = (tenant: string, name = `c-${randomUUID().slice(0, 8)}`) =>
    bed.rpc.request(
      RagCollectionsCreate,
      { name, embeddingModel: 'bge-small', embeddingDimension: 384 },
      tenantMember(tenant),
    );

  const count = async (table: string) =>
    ((await bed.ownerDb.query(`SELECT count(*)::int AS n FROM rag.${table}`)) as [{ n: number }])[0]
      .n;

  it('stores a document once per content: the same bytes again answer the first, pending', async () => {
    const collection = await newCollection(a);
    const body = {
      collectionId: collection.id,
      sourceName: 'handbook.md',
      mediaType: 'text/markdown' as const,
      content: '# Handbook\n\nTravel is booked through the portal.',
      metadata: { team: 'ops' },
    };
    const first = await bed.rpc.request(RagDocumentsCreate, body, tenantMember(a));
    expect(first.created).toBe(true);
    expect(first.document).toMatchObject({
      status: 'pending',
      classification: 'internal',
      sizeBytes: Buffer.byteLength(body.content),
      metadata: { team: 'ops' },
    });
    const again = await bed.rpc.request(
      RagDocumentsCreate,
      { ...body, sourceName: 'copy.md' },
      tenantMember(a),
    );
    expect(again).toEqual({ document: first.document, created: false });
    const rows = await bed.ownerDb.query(
      `SELECT count(*)::int AS n FROM rag.documents WHERE collection_id = $1`,
      [collection.id],
    );
    expect(rows[0].n).toBe(1);
    // the same bytes in base64 are the same content
    const base64 = await bed.rpc.request(
      RagDocumentsCreate,
      { ...body, content: Buffer.from(body.content).toString('base64'), contentEncoding: 'base64' },
      tenantMember(a),
    );
    expect(base64.document.id).toBe(first.document.id);
    const got = await bed.rpc.request(RagCollectionsGet, { id: collection.id }, tenantMember(a));
    expect(got.documentCount).toBe(1);
  });

  it('keeps each tenant to its own collections and documents', async () => {
    const mine = await newCollection(a);
    const { document } = await bed.rpc.request(
      RagDocumentsCreate,
      {
        collectionId: mine.id,
        sourceName: 'a.txt',
        mediaType: 'text/plain',
        content: 'secret of a',
      },
      tenantMember(a),
    );
    const asB = tenantMember(b);
    await expect(bed.rpc.request(RagCollectionsGet, { id: mine.id }, asB)).rejects.toMatchObject({
      code: ErrorCode.NotFound,
    });
    await expect(
      bed.rpc.request(RagDocumentsGet, { collectionId: mine.id, id: document.id }, asB),
    ).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await expect(
      bed.rpc.request(RagDocumentsList, { collectionId: mine.id }, asB),
    ).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await expect(
      bed.rpc.request(
        RagDocumentsCreate,
        { collectionId: mine.id, sourceName: 'x', mediaType: 'text/plain', content: 'into a' },
        asB,
      ),
    ).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await expect(bed.rpc.request(RagCollectionsDelete, { id: mine.id }, asB)).rejects.toMatchObject(
      { code: ErrorCode.NotFound },
    );
    const listed = await bed.rpc.request(RagCollectionsList, {}, asB);
    expect(listed.items.map((c) => c.id)).not.toContain(mine.id);
    // a tenant naming another tenant is refused, not obeyed
    await expect(
      bed.rpc.request(RagCollectionsGet, { id: mine.id, tenantId: a }, asB),
    ).rejects.toMatchObject({ code: ErrorCode.NotFound });
    // the same name is free in another tenant (unique keys lead with the tenant)
    await expect(newCollection(b, 'shared-name')).resolves.toMatchObject({ name: 'shared-name' });
    await expect(newCollection(a, 'shared-name')).resolves.toMatchObject({ name: 'shared-name' });
    await expect(newCollection(a, 'shared-name')).rejects.toMatchObject({
      code: ErrorCode.Conflict,
      details: { reason: RagErrorReason.CollectionNameTaken },
    });
  });

  it('hides, as the runtime role, every row from a query that forgets its tenant filter', async () => {
    const scope = new TenantScope(bed.runtimeDb);
    for (const table of ['collections', 'documents']) {
      const seen = await scope.run(b, (em) =>
        em.query(`SELECT DISTINCT tenant_id AS t FROM rag.${table}`),
      );
      expect(seen.map((r: { t: string }) => r.t)).toEqual(seen.length ? [b] : []);
      const none = await bed.runtimeDb.query(`SELECT count(*)::int AS n FROM rag.${table}`);
      expect(none[0].n).toBe(0);
    }
  });

  it('refuses TRUNCATE to the runtime role, which row-level security would not stop', async () => {
    const scope = new TenantScope(bed.runtimeDb);
    for (const table of ['collections', 'documents', 'chunks'])
      await expect(scope.run(a, (em) => em.query(`TRUNCATE rag.${table} CASCADE`))).rejects.toThrow(
        /permission denied/,
      );
  });

  it('answers bad input with typed errors and writes nothing', async () => {
    const collection = await newCollection(a);
    const before = [await count('collections'), await count('documents')];
    const asA = tenantMember(a);
    const bad: [Promise<unknown>, object][] = [
      [
        bed.rpc.request(
          RagCollectionsCreate,
          { name: 'x', embeddingModel: 'm', embeddingDimension: 5000 } as never,
          asA,
        ),
        { code: ErrorCode.ValidationFailed },
      ],
      [
        bed.rpc.request(
          RagCollectionsCreate,
          { name: 'x\u0000y', embeddingModel: 'm', embeddingDimension: 3 },
          asA,
        ),
        { code: ErrorCode.ValidationFailed },
      ],
      [
        bed.rpc.request(RagCollectionsGet, { id: 'not-a-uuid' }, asA),
        { code: ErrorCode.ValidationFailed },
      ],
      [
        bed.rpc.request(
          RagDocumentsCreate,
          {
            collectionId: collection.id,
            sourceName: 'p.pdf',
            mediaType: 'application/pdf',
            content: '%%%not base64',
            contentEncoding: 'base64',
          },
          asA,
        ),
        {
          code: ErrorCode.ValidationFailed,
          details: { reason: RagErrorReason.DocumentContentInvalid },
        },
      ],
      [
        bed.rpc.request(
          RagDocumentsCreate,
          {
            collectionId: collection.id,
            sourceName: 'a',
            mediaType: 'image/png',
            content: 'x',
          } as never,
          asA,
        ),
        { code: ErrorCode.ValidationFailed },
      ],
      [
        bed.rpc.request(
          RagDocumentsCreate,
          {
            collectionId: collection.id,
            sourceName: 'a',
            mediaType: 'text/plain',
            content: 'x',
            metadata: { a: { b: { c: { d: { e: 1 } } } } },
          },
          asA,
        ),
        { code: ErrorCode.ValidationFailed },
      ],
      [
        bed.rpc.request(
          RagDocumentsCreate,
          {
            collectionId: collection.id,
            sourceName: 'a',
            mediaType: 'text/plain',
            content: 'x'.repeat(600 * 1024),
          },
          asA,
          { timeoutMs: 10_000 },
        ),
        { code: ErrorCode.PayloadTooLarge },
      ],
      [
        bed.rpc.request(
          RagDocumentsCreate,
          { collectionId: randomUUID(), sourceName: 'a', mediaType: 'text/plain', content: 'x' },
          asA,
        ),
        { code: ErrorCode.NotFound },
      ],
    ];
    // every call is in flight at once: each has its expectation attached before any answers
    await Promise.all(bad.map(([call, expected]) => expect(call).rejects.toMatchObject(expected)));
    expect([await count('collections'), await count('documents')]).toEqual(before);
  });

  it('lets no one file a document above their clearance, nor read one', async () => {
    const collection = await newCollection(a);
    const viewer = tenantMember(a, ['viewer', 'developer']);
    await expect(
      bed.rpc.request(
        RagDocumentsCreate,
        {
          collectionId: collection.id,
          sourceName: 'r',
          mediaType: 'text/plain',
          content: 'r',
          classification: 'restricted',
        },
        viewer,
      ),
    ).rejects.toMatchObject({ code: ErrorCode.Forbidden });
    const { document } = await bed.rpc.request(
      RagDocumentsCreate,
      {
        collectionId: collection.id,
        sourceName: 'r',
        mediaType: 'text/plain',
        content: 'r',
        classification: 'restricted',
      },
      tenantMember(a),
    );
    await expect(
      bed.rpc.request(RagDocumentsGet, { collectionId: collection.id, id: document.id }, viewer),
    ).rejects.toMatchObject({ code: ErrorCode.NotFound });
    const listed = await bed.rpc.request(RagDocumentsList, { collectionId: collection.id }, viewer);
    expect(listed.items).toEqual([]);
    await expect(
      bed.rpc.request(RagDocumentsDelete, { collectionId: collection.id, id: document.id }, viewer),
    ).rejects.toMatchObject({ code: ErrorCode.NotFound });
    // billing holds no Document permission at all
    await expect(
      bed.rpc.request(
        RagDocumentsList,
        { collectionId: collection.id },
        tenantMember(a, ['billing']),
      ),
    ).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });

  it('pages documents newest first with a cursor bound to the query', async () => {
    const collection = await newCollection(a);
    for (let i = 0; i < 5; i++)
      await bed.rpc.request(
        RagDocumentsCreate,
        {
          collectionId: collection.id,
          sourceName: `d${i}`,
          mediaType: 'text/plain',
          content: `d${i}`,
        },
        tenantMember(a),
      );
    const first = await bed.rpc.request(
      RagDocumentsList,
      { collectionId: collection.id, limit: 3 },
      tenantMember(a),
    );
    expect(first.items.map((d) => d.sourceName)).toEqual(['d4', 'd3', 'd2']);
    const second = await bed.rpc.request(
      RagDocumentsList,
      { collectionId: collection.id, limit: 3, cursor: first.nextCursor! },
      tenantMember(a),
    );
    expect(second.items.map((d) => d.sourceName)).toEqual(['d1', 'd0']);
    expect(second.nextCursor).toBeNull();
    await expect(
      bed.rpc.request(
        RagDocumentsList,
        { collectionId: collection.id, cursor: first.nextCursor! },
        tenantMember(b),
      ),
    ).rejects.toMatchObject({ code: ErrorCode.ValidationFailed });
  });

  it('deletes a collection with its documents, chunks and vector index', async () => {
    const collection = await newCollection(a);
    await bed.rpc.request(
      RagDocumentsCreate,
      {
        collectionId: collection.id,
        sourceName: 'x',
        mediaType: 'text/plain',
        content: 'gone soon',
      },
      tenantMember(a),
    );
    await expect(
      bed.rpc.request(RagCollectionsDelete, { id: collection.id }, tenantMember(a)),
    ).resolves.toEqual({ id: collection.id, deleted: true });
    const docs = await bed.ownerDb.query(
      `SELECT count(*)::int AS n FROM rag.documents WHERE collection_id = $1`,
      [collection.id],
    );
    expect(docs[0].n).toBe(0);
    const indexes = await bed.ownerDb.query(
      `SELECT indexname FROM pg_indexes WHERE schemaname = 'rag' AND indexname = $1`,
      [`chunks_hnsw_${collection.id.replace(/-/g, '')}`],
    );
    expect(indexes).toEqual([]);
    await expect(
      bed.rpc.request(RagCollectionsGet, { id: collection.id }, tenantMember(a)),
    ).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });
});
