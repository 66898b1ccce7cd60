import type { RequestContext } from '@lattice/request-context';

/** A stored document that waits to be parsed, chunked and embedded. */
export interface IngestRequest {
  tenantId: string;
  collectionId: string;
  documentId: string;
}

/** The job that ingests a document. */
export interface IngestTicket {
  jobId: string;
}

/**
 * Where a new document goes to be ingested, after the transaction that stored it committed.
 * The ingest job (parse, chunk, embed on the `embedding` scheduler queue) implements it and
 * then writes its results through `DocumentIngestStore`.
 */
export abstract class DocumentIngestQueue {
  /** Queues the document's ingest once: asked again for the same document, the same job. */
  abstract enqueue(request: IngestRequest, ctx: RequestContext): Promise<IngestTicket | undefined>;

  /** Stops the job of a document that is gone, should it not have ended. */
  cancel(_jobId: string, _tenantId: string, _ctx: RequestContext): Promise<void> {
    return Promise.resolve();
  }
}
