import { randomUUID } from 'node:crypto';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import {
  ErrorCode,
  RAG_INGEST_JOB_TYPE,
  RAG_INGEST_QUEUE,
  RagCollectionsCreate,
  RagDocumentsCreate,
  RagDocumentsDelete,
  RagDocumentsGet,
  SchedulerJobsGet,
  SchedulerJobsList,
  TenantsCreate,
  TenantsUsage,
  type CreateDocumentRequest,
  type DocumentView,
} from '@lattice/contracts';
import { eventually, failure } from '@lattice/testing';
import { OpenAiEmbeddingsStandIn } from '../../test/openai-embeddings-stand-in';
import {
  platformAdmin,
  startRagTestBed,
  tenantMember,
  type RagTestBed,
} from '../../test/rag.test-bed';
import { countTokens } from '../tokens/tokenizer';
import { chunkDocument } from './chunking';
import { parseDocument } from './parsing';

// the tenants and scheduler services start from the build, and a busy machine is slow
jest.setTimeout(120_000);

const MODEL = 'stand-in-embed';
const DIMENSION = 64;
const CHUNK_TOKENS = 40;
const OVERLAP = 8;

async function pdf(pages: string[][]): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = doc.addPage();
    lines.forEach((line, i) => page.drawText(line, { x: 50, y: 700 - i * 20, font, size: 12 }));
  }
  return Buffer.from(await doc.save());
}

const paragraph = (topic: string, n: number) =>
  Array.from(
    { length: n },
    (_, i) => `Sentence ${i + 1} about ${topic} explains one more detail of the matter.`,
  ).join(' ');

describe('ingest as scheduler jobs', () => {
  const embeddings = new OpenAiEmbeddingsStandIn({ dimension: DIMENSION, model: MODEL });
  let bed: RagTestBed;
  let tenant: string;
  let collectionId: string;

  beforeAll(async () => {
    const url = await embeddings.start();
    bed = await startRagTestBed({
      env: {
        LATTICE_EMBEDDINGS_URL: url,
        LATTICE_EMBEDDINGS_MODEL: MODEL,
        LATTICE_EMBEDDINGS_DIMENSION: String(DIMENSION),
        LATTICE_EMBEDDINGS_MAX_RETRIES: '0',
        LATTICE_EMBEDDINGS_TIMEOUT_MS: '1000',
        RAG_CHUNK_TOKENS: String(CHUNK_TOKENS),
        RAG_CHUNK_OVERLAP_TOKENS: String(OVERLAP),
        RAG_INGEST_BATCH_CHUNKS: '2',
      },
      // a failed attempt goes back to the queue at once
      scheduler: { SCHEDULER_RETRY_BASE_SECONDS: '0', SCHEDULER_RETRY_MAX_SECONDS: '0' },
      app: { pollMs: 200 },
    });
    tenant = await bed.newTenant();
    collectionId = (await newCollection(tenant)).id;
  });
  afterAll(async () => {
    await bed?.close();
    await embeddings.stop();
  });

  const newCollection = (t: string) =>
    bed.rpc.request(
      RagCollectionsCreate,
      {
        name: `c-${randomUUID().slice(0, 8)}`,
        embeddingModel: MODEL,
        embeddingDimension: DIMENSION,
      },
      tenantMember(t),
    );
  const post = (
    body: Partial<CreateDocumentRequest> & Pick<CreateDocumentRequest, 'mediaType' | 'content'>,
    t = tenant,
    collection = collectionId,
  ) =>
    bed.rpc.request(
      RagDocumentsCreate,
      { collectionId: collection, sourceName: `doc-${randomUUID().slice(0, 6)}`, ...body },
      tenantMember(t),
    );
  const settled = (doc: DocumentView, t = tenant) =>
    eventually(
      async () => {
        const now = await bed.rpc.request(
          RagDocumentsGet,
          { collectionId: doc.collectionId, id: doc.id },
          tenantMember(t),
        );
        expect(['ready', 'failed']).toContain(now.status);
        return now;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  const jobOf = (doc: DocumentView, t = tenant) =>
    bed.rpc.request(SchedulerJobsGet, { id: doc.ingestJobId! }, tenantMember(t));
  const chunkRows = async (documentId: string) =>
    (await bed.ownerDb.query(
      `SELECT ordinal, text FROM rag.chunks WHERE document_id = $1 ORDER BY ordinal`,
      [documentId],
    )) as { ordinal: number; text: string }[];
  const expectedChunks = async (mediaType: string, body: Buffer) =>
    chunkDocument(await parseDocument({ contentType: mediaType, body, sourceName: 'x' }), {
      maxTokens: CHUNK_TOKENS,
      overlapTokens: OVERLAP,
      countTokens,
    });

  it('turns Markdown, HTML and PDF documents into chunks, with progress on the job', async () => {
    const markdown = `# Rivers\n\n${paragraph('rivers', 6)}\n\n## Deltas\n\n${paragraph('deltas', 5)}\n`;
    const html = `<html><body><h1>Glaciers</h1><p>${paragraph('glaciers', 6)}</p><h2>Ice</h2><p>${paragraph('ice', 4)}</p></body></html>`;
    const pdfBody = await pdf([
      ['Volcanoes', 'Magma rises through the crust and erupts at the surface.'],
      ['Ash clouds travel far and ground aircraft for days at a time.'],
    ]);
    const docs = [
      { mediaType: 'text/markdown' as const, body: Buffer.from(markdown) },
      { mediaType: 'text/html' as const, body: Buffer.from(html) },
      { mediaType: 'application/pdf' as const, body: pdfBody },
    ];
    const created = await Promise.all(
      docs.map(({ mediaType, body }) =>
        post(
          mediaType === 'application/pdf'
            ? { mediaType, content: body.toString('base64'), contentEncoding: 'base64' }
            : { mediaType, content: body.toString('utf8') },
        ),
      ),
    );
    for (const [i, { document, created: isNew }] of created.entries()) {
      expect(isNew).toBe(true);
      expect(document.status).toBe('pending');
      expect(document.ingestJobId).toEqual(expect.any(String));
      const ready = await settled(document);
      const expected = await expectedChunks(docs[i]!.mediaType, docs[i]!.body);
      expect(ready).toMatchObject({ status: 'ready', error: null, chunkCount: expected.length });
      const rows = await chunkRows(document.id);
      expect(rows.map((r) => r.text)).toEqual(expected.map((c) => c.text));
      // the worker reports the job ended just after the document's transaction commits
      const job = await eventually(async () => {
        const j = await jobOf(document);
        expect(j.state).toBe('succeeded');
        return j;
      });
      expect(job).toMatchObject({ queue: RAG_INGEST_QUEUE, type: RAG_INGEST_JOB_TYPE });
      expect(job.progress).toMatchObject({
        done: expected.length,
        total: expected.length,
        stage: 'embedding',
      });
      expect(job.result).toMatchObject({ outcome: 'ready', chunks: expected.length });
    }
    expect((await chunkRows(created[2]!.document.id)).map((r) => r.text).join(' ')).toContain(
      'Magma rises',
    );
  });

  it('fails a corrupt PDF with its code, at once, and writes no chunks', async () => {
    const good = await pdf([['A page that will be cut short.']]);
    const corrupt = Buffer.concat([good.subarray(0, 200), Buffer.from('garbage'.repeat(20))]);
    const { document } = await post({
      mediaType: 'application/pdf',
      content: corrupt.toString('base64'),
      contentEncoding: 'base64',
    });
    const failed = await settled(document);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^(malformed|empty): /);
    expect(failed.chunkCount).toBe(0);
    expect(await chunkRows(document.id)).toEqual([]);
    const job = await eventually(async () => {
      const j = await jobOf(document);
      expect(j.state).toBe('failed');
      return j;
    });
    expect(job.attempts).toBe(1);
  });

  it('queues one job and writes one set of chunks for the same content posted twice', async () => {
    const content = `# Twice\n\n${paragraph('repetition', 5)}`;
    const first = await post({ mediaType: 'text/markdown', content });
    const second = await post({ mediaType: 'text/markdown', content });
    expect(second.created).toBe(false);
    expect(second.document.id).toBe(first.document.id);
    expect(second.document.ingestJobId).toBe(first.document.ingestJobId);
    const ready = await settled(first.document);
    const { items } = await bed.rpc.request(
      SchedulerJobsList,
      { queue: RAG_INGEST_QUEUE, limit: 100 },
      tenantMember(tenant),
    );
    expect(
      items.filter((j) => (j.payload as { documentId?: string }).documentId === first.document.id),
    ).toHaveLength(1);
    expect(await chunkRows(first.document.id)).toHaveLength(ready.chunkCount);
  });

  it('retries an attempt that failed mid-way without duplicating chunks', async () => {
    // the first embedding call of the first attempt hangs past the provider's timeout
    embeddings.failures.push({ status: 0, hang: true });
    const content = `# Retry\n\n${paragraph('retries', 8)}`;
    const { document } = await post({ mediaType: 'text/markdown', content });
    const ready = await settled(document);
    const expected = await expectedChunks('text/markdown', Buffer.from(content));
    expect(ready).toMatchObject({ status: 'ready', chunkCount: expected.length });
    const rows = await chunkRows(document.id);
    expect(rows.map((r) => r.ordinal)).toEqual(expected.map((_, i) => i));
    await eventually(async () =>
      expect(await jobOf(document)).toMatchObject({ state: 'succeeded', attempts: 2 }),
    );
  });

  it('stops the ingest of a document deleted mid-way, leaving no chunks', async () => {
    // every attempt hangs until it times out, so the job is still at it when deleted
    embeddings.failures.push(...[1, 2, 3].map(() => ({ status: 0, hang: true })));
    const { document } = await post({
      mediaType: 'text/markdown',
      content: `# Gone\n\n${paragraph('deletion', 6)}`,
    });
    await eventually(async () => expect((await jobOf(document)).state).toBe('running'));
    await bed.rpc.request(
      RagDocumentsDelete,
      { collectionId, id: document.id },
      tenantMember(tenant),
    );
    await eventually(async () => expect((await jobOf(document)).state).toBe('cancelled'));
    embeddings.failures.length = 0;
    expect(await chunkRows(document.id)).toEqual([]);
  });

  describe('storage', () => {
    const usedStorage = async (t: string) =>
      (await bed.rpc.request(TenantsUsage, { tenantId: t }, platformAdmin())).usage.find(
        (u) => u.resource === 'storageBytes',
      )?.used;

    it("refuses a document over the tenant's storage quota, storing nothing", async () => {
      const slug = `t-${randomUUID().slice(0, 8)}`;
      const { id: small } = await bed.rpc.request(
        TenantsCreate,
        { slug, name: slug, plan: 'custom', quotaOverrides: { storageBytes: 100 } },
        platformAdmin(),
      );
      const collection = await newCollection(small);
      const refusal = await failure(
        post({ mediaType: 'text/plain', content: 'x'.repeat(200) }, small, collection.id),
      );
      expect(refusal.code).toBe(ErrorCode.QuotaExceeded);
      expect(
        await bed.ownerDb.query(`SELECT id FROM rag.documents WHERE tenant_id = $1`, [small]),
      ).toEqual([]);
    });

    it('answers content stored already with its document when the plan has no room left', async () => {
      const slug = `t-${randomUUID().slice(0, 8)}`;
      const content = 'y'.repeat(80);
      const { id: full } = await bed.rpc.request(
        TenantsCreate,
        { slug, name: slug, plan: 'custom', quotaOverrides: { storageBytes: 100 } },
        platformAdmin(),
      );
      const collection = await newCollection(full);
      const first = await post({ mediaType: 'text/plain', content }, full, collection.id);
      await eventually(async () => expect(await usedStorage(full)).toBe(80));
      // the plan has 20 bytes left: the same 80 bytes again are the stored document, not a 429
      const again = await post({ mediaType: 'text/plain', content }, full, collection.id);
      expect(again).toMatchObject({ created: false, document: { id: first.document.id } });
      const other = await failure(
        post({ mediaType: 'text/plain', content: 'z'.repeat(80) }, full, collection.id),
      );
      expect(other.code).toBe(ErrorCode.QuotaExceeded);
    });

    it('meters stored bytes once when stored and once when deleted', async () => {
      const t = await bed.newTenant();
      const collection = await newCollection(t);
      const content = `# Metered\n\n${paragraph('metering', 3)}`;
      const size = Buffer.byteLength(content);
      const { document } = await post({ mediaType: 'text/markdown', content }, t, collection.id);
      await post({ mediaType: 'text/markdown', content }, t, collection.id);
      await eventually(async () => expect(await usedStorage(t)).toBe(size));
      await settled(document, t);
      await bed.rpc.request(
        RagDocumentsDelete,
        { collectionId: collection.id, id: document.id },
        tenantMember(t),
      );
      await eventually(async () => expect(await usedStorage(t)).toBe(0));
      await eventually(async () =>
        expect(await bed.ownerDb.query(`SELECT id FROM rag.usage_outbox`)).toEqual([]),
      );
      expect(await usedStorage(t)).toBe(0);
    });
  });
});
