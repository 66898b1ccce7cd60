import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '@lattice/service-runtime';
import type { RequestContext } from '@lattice/request-context';

/** A stored document that waits to be parsed, chunked and embedded. */
export interface IngestRequest {
  tenantId: string;
  collectionId: string;
  documentId: string;
}

/**
 * Where a new document goes to be ingested, after the transaction that stored it committed.
 * The ingest job (parse, chunk, embed on the `embedding` scheduler queue) implements it and
 * then writes its results through `DocumentIngestStore`.
 */
export abstract class DocumentIngestQueue {
  abstract enqueue(request: IngestRequest, ctx: RequestContext): Promise<void>;
}

/**
 * The queue while no ingest job is connected: documents stay `pending` (what their status
 * says), and the service says so once in its log.
 */
@Injectable()
export class PendingDocumentsIngestQueue extends DocumentIngestQueue {
  private told = false;

  constructor(@Inject(LOGGER) private readonly logger: Logger) {
    super();
  }

  enqueue(): Promise<void> {
    if (!this.told) {
      this.told = true;
      this.logger.warn('no ingest job is connected: new documents stay pending');
    }
    return Promise.resolve();
  }
}
