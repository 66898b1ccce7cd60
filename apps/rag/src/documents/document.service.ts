import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { createHash, randomUUID } from 'node:crypto';
import {
  DOCUMENT_MAX_BYTES,
  DomainError,
  ErrorCode,
  RagErrorReason,
  type CreateDocumentReply,
  type CreateDocumentRequest,
  type DeletedReply,
  type DocumentPage,
  type DocumentView,
  type ListDocumentsQuery,
} from '@lattice/contracts';
import { CursorCodec, TenantScope } from '@lattice/database';
import { AuditRecorder, auditActorOf } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { LOGGER } from '@lattice/service-runtime';
import { CollectionRepository } from '../collections/collection.repository';
import { ragAccess } from '../rag-access';
import { readableClassifications } from '../retrieval/clearance';
import { DocumentIngestQueue } from './document-ingest-queue';
import { DocumentRepository, type DocumentRow } from './document.repository';
import { StorageMetering } from './storage-metering';

/**
 * A collection's documents: stored once per content (the same bytes again answer the first
 * document), pending until ingest has chunked and embedded them, read within the caller's
 * clearance.
 */
@Injectable()
export class DocumentService {
  constructor(
    private readonly scope: TenantScope,
    private readonly collections: CollectionRepository,
    private readonly documents: DocumentRepository,
    private readonly cursors: CursorCodec,
    private readonly audit: AuditRecorder,
    @Inject(DocumentIngestQueue) private readonly ingest: DocumentIngestQueue,
    private readonly storage: StorageMetering,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async create(ctx: RequestContext, req: CreateDocumentRequest): Promise<CreateDocumentReply> {
    const actor = ragAccess.documents(ctx, 'create', req.tenantId);
    // what one may not read, one may not file either
    if (!readableClassifications(actor.clearance).includes(req.classification))
      throw new DomainError(
        ErrorCode.Forbidden,
        `a ${req.classification} document needs a clearance the caller does not hold`,
        { clearance: actor.clearance },
      );
    const body = decodeContent(req.content, req.contentEncoding);
    const contentHash = createHash('sha256').update(body).digest('hex');
    // content stored already takes no more room: posting it again answers the stored document
    // even where the plan is full
    const known = await this.scope.run(actor.tenantId, (em) =>
      this.documents.holdsContent(em, req.collectionId, contentHash),
    );
    if (!known) await this.storage.hold(actor.tenantId, body.length);
    const { row, created } = await this.scope.run(actor.tenantId, async (em) => {
      // held while the document goes in, so a concurrent delete cannot orphan it
      if (!(await this.collections.get(em, req.collectionId, true)))
        throw ragAccess.hiddenCollection();
      const stored = await this.documents.insertOnce(em, {
        id: randomUUID(),
        tenantId: actor.tenantId,
        collectionId: req.collectionId,
        ownerId: actor.ownerId,
        sourceName: req.sourceName,
        mediaType: req.mediaType,
        contentHash,
        classification: req.classification,
        metadata: req.metadata,
        sizeBytes: body.length,
        body,
      });
      if (stored.created) await this.storage.stored(em, stored.row);
      return stored;
    });
    if (created) {
      this.storage.kick();
      this.record(ctx, 'document.create', row);
    } else if (!readableClassifications(actor.clearance).includes(row.classification)) {
      // the same content filed under a classification above the caller's: not shown
      throw new DomainError(ErrorCode.Conflict, 'the collection holds this content already');
    }
    // the same content again queues what a first call could not (the scheduler was away)
    if (row.ingestJobId === null && (row.status === 'pending' || row.status === 'processing'))
      row.ingestJobId = await this.enqueue(ctx, row);
    return { document: toDocumentView(row), created };
  }

  /** Submits the document's ingest and remembers its job; it stays pending when that fails. */
  private async enqueue(ctx: RequestContext, row: DocumentRow): Promise<string | null> {
    const ticket = await this.ingest
      .enqueue({ tenantId: row.tenantId, collectionId: row.collectionId, documentId: row.id }, ctx)
      .catch((error: unknown) => {
        this.logger.warn(
          { err: error, documentId: row.id },
          'ingest not queued: the document stays pending until its content is posted again',
        );
        return undefined;
      });
    if (!ticket) return null;
    await this.scope.run(row.tenantId, (em) =>
      this.documents.setIngestJob(em, row.id, ticket.jobId),
    );
    return ticket.jobId;
  }

  async get(
    ctx: RequestContext,
    collectionId: string,
    id: string,
    tenantId?: string,
  ): Promise<DocumentView> {
    const actor = ragAccess.documents(ctx, 'read', tenantId);
    const row = await this.scope.run(actor.tenantId, (em) =>
      this.documents.get(em, collectionId, id),
    );
    if (!row || !readableClassifications(actor.clearance).includes(row.classification))
      throw ragAccess.hiddenDocument();
    return toDocumentView(row);
  }

  async list(ctx: RequestContext, query: ListDocumentsQuery): Promise<DocumentPage> {
    const actor = ragAccess.documents(ctx, 'read', query.tenantId);
    const filters = {
      collectionId: query.collectionId,
      status: query.status,
      classifications: readableClassifications(actor.clearance),
    };
    const binding = { tenantId: actor.tenantId, list: 'documents', filters };
    const after = query.cursor
      ? (this.cursors.decode(query.cursor, binding) as [string, string])
      : null;
    const rows = await this.scope.run(actor.tenantId, async (em) => {
      if (!(await this.collections.get(em, query.collectionId))) throw ragAccess.hiddenCollection();
      return this.documents.list(em, filters, after, query.limit + 1);
    });
    const items = rows.slice(0, query.limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toDocumentView),
      nextCursor:
        rows.length > query.limit && last
          ? this.cursors.encode([last.createdAt.toISOString(), last.id], binding)
          : null,
    };
  }

  /** Deletes the document with its chunks. */
  async delete(
    ctx: RequestContext,
    collectionId: string,
    id: string,
    tenantId?: string,
  ): Promise<DeletedReply> {
    const actor = ragAccess.documents(ctx, 'delete', tenantId);
    const row = await this.scope.run(actor.tenantId, async (em) => {
      const found = await this.documents.get(em, collectionId, id, true);
      if (!found || !readableClassifications(actor.clearance).includes(found.classification))
        return undefined;
      await this.documents.delete(em, collectionId, id);
      await this.storage.removed(em, [found]);
      return found;
    });
    if (!row) throw ragAccess.hiddenDocument();
    this.storage.kick();
    if (row.ingestJobId && (row.status === 'pending' || row.status === 'processing'))
      await this.ingest.cancel(row.ingestJobId, row.tenantId, ctx);
    this.record(ctx, 'document.delete', row);
    return { id, deleted: true };
  }

  private record(ctx: RequestContext, action: string, row: DocumentRow): void {
    this.audit.record({
      tenantId: row.tenantId,
      actor: auditActorOf(ctx),
      action,
      resource: { type: 'Document', id: row.id },
      outcome: 'success',
      requestId: ctx.requestId,
      metadata: {
        collectionId: row.collectionId,
        classification: row.classification,
        sizeBytes: row.sizeBytes,
      },
    });
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The document's bytes, refused when they are not valid in their encoding or too many. */
export function decodeContent(content: string, encoding: 'utf8' | 'base64'): Buffer {
  const invalid = (message: string) =>
    new DomainError(ErrorCode.ValidationFailed, message, {
      field: 'content',
      reason: RagErrorReason.DocumentContentInvalid,
    });
  const tooLarge = (bytes: number) =>
    new DomainError(
      ErrorCode.PayloadTooLarge,
      `content is ${bytes} bytes; at most ${DOCUMENT_MAX_BYTES} are accepted`,
      { field: 'content', reason: RagErrorReason.DocumentTooLarge, limit: DOCUMENT_MAX_BYTES },
    );
  if (encoding === 'base64') {
    const compact = content.replace(/\s+/g, '');
    if (!BASE64.test(compact) || compact.length % 4 !== 0)
      throw invalid('content is not valid base64');
    const bytes = Buffer.from(compact, 'base64');
    if (bytes.length === 0) throw invalid('content is empty');
    if (bytes.length > DOCUMENT_MAX_BYTES) throw tooLarge(bytes.length);
    return bytes;
  }
  if (
    content.includes('\u0000') ||
    !(content as unknown as { isWellFormed(): boolean }).isWellFormed()
  )
    throw invalid('content holds text that cannot be stored');
  const bytes = Buffer.from(content, 'utf8');
  if (bytes.length > DOCUMENT_MAX_BYTES) throw tooLarge(bytes.length);
  return bytes;
}

export function toDocumentView(row: DocumentRow): DocumentView {
  return {
    id: row.id,
    tenantId: row.tenantId,
    collectionId: row.collectionId,
    sourceName: row.sourceName,
    mediaType: row.mediaType,
    contentHash: row.contentHash,
    classification: row.classification,
    metadata: row.metadata as DocumentView['metadata'],
    status: row.status,
    sizeBytes: row.sizeBytes,
    chunkCount: row.chunkCount,
    error: row.error,
    ingestJobId: row.ingestJobId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
