import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  DomainError,
  ErrorCode,
  RAG_INGEST_JOB_TYPE,
  RAG_INGEST_QUEUE,
  SchedulerJobsCancel,
  SchedulerJobsSubmit,
  type RagIngestPayload,
} from '@lattice/contracts';
import { RpcClient } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { LOGGER } from '@lattice/service-runtime';
import {
  DocumentIngestQueue,
  type IngestRequest,
  type IngestTicket,
} from '../documents/document-ingest-queue';

/**
 * Ingest as scheduler jobs: one `rag.ingest` job per document on the `embedding` queue,
 * submitted with the caller's own context (the job is theirs: they follow its progress, their
 * tenant's fair share applies), keyed by the document so that asking again gives the same job.
 */
@Injectable()
export class SchedulerIngestQueue extends DocumentIngestQueue {
  constructor(
    private readonly rpc: RpcClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super();
  }

  async enqueue(request: IngestRequest, ctx: RequestContext): Promise<IngestTicket> {
    const payload: RagIngestPayload = {
      collectionId: request.collectionId,
      documentId: request.documentId,
    };
    const job = await this.rpc.request(
      SchedulerJobsSubmit,
      {
        queue: RAG_INGEST_QUEUE,
        type: RAG_INGEST_JOB_TYPE,
        payload,
        idempotencyKey: `rag.ingest.${request.documentId}`,
        labels: { 'rag.collection': request.collectionId },
        ...(ctx.tenantId === request.tenantId ? {} : { tenantId: request.tenantId }),
      },
      ctx,
    );
    return { jobId: job.id };
  }

  override async cancel(jobId: string, tenantId: string, ctx: RequestContext): Promise<void> {
    try {
      await this.rpc.request(
        SchedulerJobsCancel,
        { id: jobId, ...(ctx.tenantId === tenantId ? {} : { tenantId }) },
        ctx,
      );
    } catch (error) {
      // an ended job has nothing to cancel; one the caller may not touch stops on its own, as
      // its worker finds the document gone and writes nothing
      if (
        error instanceof DomainError &&
        [
          ErrorCode.InvalidState,
          ErrorCode.Conflict,
          ErrorCode.NotFound,
          ErrorCode.Forbidden,
        ].includes(error.code)
      )
        return;
      this.logger.warn(
        { err: error, jobId },
        'the ingest job of a deleted document was not cancelled',
      );
    }
  }
}
