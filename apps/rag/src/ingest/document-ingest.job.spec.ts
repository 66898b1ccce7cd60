import { DomainError, ErrorCode, type LeasedJob } from '@lattice/contracts';
import { createLogger } from '@lattice/logging';
import { LOGGER } from '@lattice/service-runtime';
import { createTestBed, provide } from '@lattice/testing';
import { JobAbortedError, PermanentJobError, type JobContext } from '@lattice/worker';
import { DocumentIngestStore, type IngestWork } from '../documents/document-ingest.store';
import { EmbeddingError, type EmbeddingProvider } from '../embeddings/embedding-provider';
import { EMBEDDING_PROVIDER } from '../embeddings/embedding-provider.token';
import { DocumentIngestJob, INGEST_SETTINGS, type IngestSettings } from './document-ingest.job';

const TENANT = '11111111-1111-4111-8111-111111111111';
const COLLECTION = '22222222-2222-4222-8222-222222222222';
const DOCUMENT = '33333333-3333-4333-8333-333333333333';

const job = (attempts = 1, maxAttempts = 3): LeasedJob => ({
  id: '44444444-4444-4444-8444-444444444444',
  tenantId: TENANT,
  queue: 'embedding',
  type: 'rag.ingest',
  payload: { collectionId: COLLECTION, documentId: DOCUMENT },
  priority: 'standard',
  attempts,
  maxAttempts,
  timeoutSeconds: 900,
  leaseExpiresAt: new Date().toISOString(),
  labels: {},
});

const markdown = Array.from(
  { length: 6 },
  (_, i) => `## Part ${i}\n\nParagraph ${i} has a few words in it, enough to be a chunk.`,
).join('\n\n');

const work = (overrides: Partial<IngestWork> = {}): IngestWork => ({
  documentId: DOCUMENT,
  collectionId: COLLECTION,
  sourceName: 'notes.md',
  mediaType: 'text/markdown',
  body: Buffer.from(markdown),
  embeddingModel: 'fake-embedder',
  embeddingDimension: 4,
  ...overrides,
});

/** An embedding model that answers from its script, one entry per call, then plain vectors. */
class FakeEmbeddings implements EmbeddingProvider {
  readonly model = 'fake-embedder';
  readonly dimension = 4;
  readonly calls: string[][] = [];
  readonly script: ((texts: string[]) => Promise<number[][]>)[] = [];

  embed(texts: string[]): Promise<number[][]> {
    this.calls.push(texts);
    const next = this.script.shift();
    return next ? next(texts) : Promise.resolve(texts.map((_, i) => [1, 0, 0, i]));
  }
}

describe(DocumentIngestJob.name, () => {
  const settings: IngestSettings = { chunkTokens: 16, overlapTokens: 0, batchChunks: 2 };
  let embeddings: FakeEmbeddings;
  let ingest: DocumentIngestJob;
  let store: jest.Mocked<DocumentIngestStore>;
  let controller: AbortController;
  let context: JobContext & { reportProgress: jest.Mock };

  beforeEach(() => {
    embeddings = new FakeEmbeddings();
    const bed = createTestBed(DocumentIngestJob, [
      provide(EMBEDDING_PROVIDER, embeddings),
      provide(INGEST_SETTINGS, settings),
      provide(LOGGER, createLogger('ingest-spec', 'silent')),
    ]);
    ingest = bed.sut;
    store = bed.mocks.get(DocumentIngestStore);
    controller = new AbortController();
    context = {
      signal: controller.signal,
      attempt: 1,
      workerId: 'w-1',
      reportProgress: jest.fn(),
    };
  });

  it('embeds the chunks in batches, reports progress after each, and writes them all at once', async () => {
    store.begin.mockResolvedValue(work());
    store.complete.mockResolvedValue();
    const result = await ingest.run(job(), context);

    expect(store.complete).toHaveBeenCalledTimes(1);
    const [, , , written] = store.complete.mock.calls[0]!;
    const chunks = written.chunks;
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.map((c) => c.ordinal)).toEqual(chunks.map((_, i) => i));
    expect(embeddings.calls.map((c) => c.length).every((n) => n <= 2)).toBe(true);
    expect(embeddings.calls.flat()).toEqual(chunks.map((c) => c.text));
    const embedding = context.reportProgress.mock.calls
      .map(([p]) => p as { done: number; total: number; stage: string })
      .filter((p) => p.stage === 'embedding');
    expect(embedding.map((p) => p.done)).toEqual([
      0,
      ...embeddings.calls.map((_, i) => Math.min((i + 1) * 2, chunks.length)),
    ]);
    expect(embedding.every((p) => p.total === chunks.length)).toBe(true);
    expect(result).toEqual({ documentId: DOCUMENT, outcome: 'ready', chunks: chunks.length });
  });

  it('fails a document that cannot be read at once, with its code, writing nothing', async () => {
    store.begin.mockResolvedValue(
      work({ mediaType: 'application/pdf', body: Buffer.from('%PDF-1.7 not really') }),
    );
    store.fail.mockResolvedValue();
    await expect(ingest.run(job(), context)).rejects.toBeInstanceOf(PermanentJobError);
    expect(store.fail).toHaveBeenCalledWith(
      TENANT,
      DOCUMENT,
      expect.stringMatching(/^malformed: /),
    );
    expect(embeddings.calls).toEqual([]);
    expect(store.complete).not.toHaveBeenCalled();
  });

  it('leaves an embedding server that is away to a retry, until the last attempt', async () => {
    const away = () => Promise.reject(new EmbeddingError('unavailable', 'server is down', 503));
    store.begin.mockResolvedValue(work());
    store.retrying.mockResolvedValue();
    store.fail.mockResolvedValue();

    embeddings.script.push(away);
    const early = await ingest.run(job(1, 3), context).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(Error);
    expect(early).not.toBeInstanceOf(PermanentJobError);
    expect(store.retrying).toHaveBeenCalledWith(
      TENANT,
      DOCUMENT,
      expect.stringMatching(/^embedding_unavailable: /),
    );
    expect(store.fail).not.toHaveBeenCalled();

    embeddings.script.push(away);
    await expect(ingest.run(job(3, 3), { ...context, attempt: 3 })).rejects.toBeInstanceOf(
      PermanentJobError,
    );
    expect(store.fail).toHaveBeenCalledWith(
      TENANT,
      DOCUMENT,
      expect.stringMatching(/^embedding_unavailable: /),
    );
    expect(store.complete).not.toHaveBeenCalled();
  });

  it('refuses to embed a collection made for another model', async () => {
    store.begin.mockResolvedValue(work({ embeddingModel: 'other-model', embeddingDimension: 384 }));
    store.fail.mockResolvedValue();
    await expect(ingest.run(job(), context)).rejects.toBeInstanceOf(PermanentJobError);
    expect(store.fail).toHaveBeenCalledWith(
      TENANT,
      DOCUMENT,
      expect.stringMatching(/^embedding_model_mismatch: /),
    );
    expect(embeddings.calls).toEqual([]);
  });

  it('stops when its signal fires mid-way, writing nothing and marking nothing', async () => {
    store.begin.mockResolvedValue(work());
    embeddings.script.push((texts) => {
      controller.abort(new JobAbortedError('cancelled'));
      return Promise.resolve(texts.map(() => [1, 0, 0, 0]));
    });
    await expect(ingest.run(job(), context)).rejects.toBeInstanceOf(JobAbortedError);
    expect(embeddings.calls).toHaveLength(1);
    expect(store.complete).not.toHaveBeenCalled();
    expect(store.fail).not.toHaveBeenCalled();
  });

  it('skips a document that is gone or already ready, and one deleted while it was embedded', async () => {
    store.begin.mockResolvedValueOnce(undefined);
    expect(await ingest.run(job(), context)).toEqual({ documentId: DOCUMENT, outcome: 'skipped' });
    expect(embeddings.calls).toEqual([]);

    store.begin.mockResolvedValueOnce(work());
    store.complete.mockRejectedValueOnce(new DomainError(ErrorCode.NotFound, 'no such document'));
    expect(await ingest.run(job(), context)).toEqual({ documentId: DOCUMENT, outcome: 'skipped' });
    expect(store.fail).not.toHaveBeenCalled();
  });

  it('says on the document when its last attempt broke unexpectedly or ran out of time', async () => {
    store.begin.mockResolvedValue(work());
    store.fail.mockResolvedValue();
    const broken = () => Promise.reject(new Error('socket hang up'));

    embeddings.script.push(broken);
    await expect(ingest.run(job(1, 2), context)).rejects.toThrow('socket hang up');
    expect(store.fail).not.toHaveBeenCalled();

    embeddings.script.push(broken);
    await expect(ingest.run(job(2, 2), { ...context, attempt: 2 })).rejects.toThrow(
      'socket hang up',
    );
    expect(store.fail).toHaveBeenLastCalledWith(
      TENANT,
      DOCUMENT,
      'ingest_failed: an internal error',
    );

    const late = new AbortController();
    embeddings.script.push((texts) => {
      late.abort(new JobAbortedError('timeout'));
      return Promise.resolve(texts.map(() => [1, 0, 0, 0]));
    });
    await expect(
      ingest.run(job(2, 2), { ...context, attempt: 2, signal: late.signal }),
    ).rejects.toBeInstanceOf(JobAbortedError);
    expect(store.fail).toHaveBeenLastCalledWith(
      TENANT,
      DOCUMENT,
      expect.stringMatching(/^timeout: /),
    );
    expect(store.complete).not.toHaveBeenCalled();
  });

  it('fails a job whose payload is not an ingest request, for good', async () => {
    await expect(
      ingest.run({ ...job(), payload: { documentId: 'not-a-uuid' } }, context),
    ).rejects.toBeInstanceOf(PermanentJobError);
    expect(store.begin).not.toHaveBeenCalled();
  });
});
