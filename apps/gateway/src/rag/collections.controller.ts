import { Body, Controller, Delete, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  ActingTenantQuery,
  CollectionPage,
  CollectionView,
  CreateCollectionRequest,
  CreateDocumentRequest,
  DOCUMENT_MAX_BYTES,
  DeletedReply,
  DocumentPage,
  DocumentView,
  DomainError,
  ErrorCode,
  RagErrorReason,
  ListCollectionsQuery,
  ListDocumentsQuery,
  RagCollectionsCreate,
  RagCollectionsDelete,
  RagCollectionsGet,
  RagCollectionsList,
  RagDocumentsCreate,
  RagDocumentsDelete,
  RagDocumentsGet,
  RagDocumentsList,
  Uuid,
  text,
} from '@lattice/contracts';
import { RpcClient } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { Caller } from '../auth/call-context.decorator';
import { Route } from '../http/route';

const IdParam = { id: Uuid };
const DocumentParams = { id: Uuid, docId: Uuid };
/**
 * The content may be longer here than over NATS: a document over the limit is answered 413
 * for its decoded size (or, larger still, for the gateway's body limit), never 400.
 */
const NewDocument = CreateDocumentRequest.omit({ collectionId: true }).extend({
  content: text({ min: 1, max: 16 * 1024 * 1024, multiline: true }).describe(
    `The document: text as it is, or its bytes (a PDF) in base64 with contentEncoding "base64"; at most ${DOCUMENT_MAX_BYTES} bytes once decoded, else 413.`,
  ),
});
const DocumentsQuery = ListDocumentsQuery.omit({ collectionId: true });

/** Collections of documents to retrieve from, and their documents (stored, then ingested). */
@ApiTags('rag')
@Controller('v1')
export class CollectionsController {
  constructor(private readonly rpc: RpcClient) {}

  @Post('collections')
  @Route({
    summary: 'Create a collection, embedded by one model at one dimension',
    permission: { action: 'create', resource: 'Collection' },
    body: CreateCollectionRequest,
    response: CollectionView,
    status: 201,
    errors: [ErrorCode.Conflict],
  })
  async create(
    @Body() body: z.output<typeof CreateCollectionRequest>,
    @Caller() ctx: RequestContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const collection = await this.rpc.request(RagCollectionsCreate, body, ctx);
    void reply.header('location', `/v1/collections/${collection.id}`);
    return collection;
  }

  @Get('collections')
  @Route({
    summary: 'List collections, newest first, a page at a time',
    permission: { action: 'read', resource: 'Collection' },
    query: ListCollectionsQuery,
    response: CollectionPage,
  })
  list(@Query() query: z.output<typeof ListCollectionsQuery>, @Caller() ctx: RequestContext) {
    return this.rpc.request(RagCollectionsList, query, ctx);
  }

  @Get('collections/:id')
  @Route({
    summary: 'Get a collection',
    permission: { action: 'read', resource: 'Collection' },
    params: IdParam,
    query: ActingTenantQuery,
    response: CollectionView,
    errors: [ErrorCode.NotFound],
  })
  get(
    @Param('id') id: string,
    @Query() query: z.output<typeof ActingTenantQuery>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(RagCollectionsGet, { id, ...query }, ctx);
  }

  @Delete('collections/:id')
  @Route({
    summary: 'Delete a collection with its documents and chunks',
    permission: { action: 'delete', resource: 'Collection' },
    params: IdParam,
    query: ActingTenantQuery,
    response: DeletedReply,
    errors: [ErrorCode.NotFound],
  })
  delete(
    @Param('id') id: string,
    @Query() query: z.output<typeof ActingTenantQuery>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(RagCollectionsDelete, { id, ...query }, ctx);
  }

  @Post('collections/:id/documents')
  @Route({
    summary: `Add a document (text, Markdown, HTML, or a PDF in base64; at most ${DOCUMENT_MAX_BYTES / 1024} KiB decoded) for ingest as a job of the embedding queue; the same content again returns the first`,
    permission: { action: 'create', resource: 'Document' },
    params: IdParam,
    body: NewDocument,
    response: DocumentView,
    status: 201,
    errors: [
      ErrorCode.NotFound,
      ErrorCode.Conflict,
      ErrorCode.PayloadTooLarge,
      ErrorCode.QuotaExceeded,
    ],
  })
  async createDocument(
    @Param('id') collectionId: string,
    @Body() body: z.output<typeof NewDocument>,
    @Caller() ctx: RequestContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const bytes = Buffer.byteLength(body.content, body.contentEncoding);
    if (bytes > DOCUMENT_MAX_BYTES)
      throw new DomainError(
        ErrorCode.PayloadTooLarge,
        `content is ${bytes} bytes; at most ${DOCUMENT_MAX_BYTES} are accepted`,
        { field: 'content', reason: RagErrorReason.DocumentTooLarge, limit: DOCUMENT_MAX_BYTES },
      );
    const { document, created } = await this.rpc.request(
      RagDocumentsCreate,
      { ...body, collectionId },
      ctx,
    );
    // 200 with the document stored before when the collection held this content already
    void reply
      .status(created ? 201 : 200)
      .header('location', `/v1/collections/${collectionId}/documents/${document.id}`);
    return document;
  }

  @Get('collections/:id/documents')
  @Route({
    summary: 'List the documents of a collection within the caller’s clearance, newest first',
    permission: { action: 'read', resource: 'Document' },
    params: IdParam,
    query: DocumentsQuery,
    response: DocumentPage,
    errors: [ErrorCode.NotFound],
  })
  listDocuments(
    @Param('id') collectionId: string,
    @Query() query: z.output<typeof DocumentsQuery>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(RagDocumentsList, { ...query, collectionId }, ctx);
  }

  @Get('collections/:id/documents/:docId')
  @Route({
    summary: 'Get a document: its status, size, classification and metadata',
    permission: { action: 'read', resource: 'Document' },
    params: DocumentParams,
    query: ActingTenantQuery,
    response: DocumentView,
    errors: [ErrorCode.NotFound],
  })
  getDocument(
    @Param('id') collectionId: string,
    @Param('docId') id: string,
    @Query() query: z.output<typeof ActingTenantQuery>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(RagDocumentsGet, { collectionId, id, ...query }, ctx);
  }

  @Delete('collections/:id/documents/:docId')
  @Route({
    summary: 'Delete a document with its chunks',
    permission: { action: 'delete', resource: 'Document' },
    params: DocumentParams,
    query: ActingTenantQuery,
    response: DeletedReply,
    errors: [ErrorCode.NotFound],
  })
  deleteDocument(
    @Param('id') collectionId: string,
    @Param('docId') id: string,
    @Query() query: z.output<typeof ActingTenantQuery>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(RagDocumentsDelete, { collectionId, id, ...query }, ctx);
  }
}
