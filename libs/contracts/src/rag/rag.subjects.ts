import {
  CollectionIdRequest,
  CollectionPage,
  CollectionView,
  CreateCollectionRequest,
  CreateDocumentReply,
  CreateDocumentRequest,
  DeletedReply,
  DocumentIdRequest,
  DocumentPage,
  DocumentView,
  ListCollectionsQuery,
  ListDocumentsQuery,
  RetrieveReply,
  RetrieveRequest,
} from './rag.schema';
import {
  AnswerStreamEvent,
  RAG_ANSWER_STREAM_PREFIX,
  RagQueryReply,
  RagQueryRequest,
  ReconciliationQuery,
  ReconciliationReport,
} from './rag-query.schema';
import { event, subject } from '../subject';

export const RagCollectionsCreate = subject(
  'rag.v1.collections.create',
  CreateCollectionRequest,
  CollectionView,
);
export const RagCollectionsList = subject(
  'rag.v1.collections.list',
  ListCollectionsQuery,
  CollectionPage,
);
export const RagCollectionsGet = subject(
  'rag.v1.collections.get',
  CollectionIdRequest,
  CollectionView,
);
/** Deletes the collection with its documents and chunks. */
export const RagCollectionsDelete = subject(
  'rag.v1.collections.delete',
  CollectionIdRequest,
  DeletedReply,
);

/** Stores the document as `pending` for ingest; the same content again returns the first. */
export const RagDocumentsCreate = subject(
  'rag.v1.documents.create',
  CreateDocumentRequest,
  CreateDocumentReply,
);
export const RagDocumentsList = subject('rag.v1.documents.list', ListDocumentsQuery, DocumentPage);
export const RagDocumentsGet = subject('rag.v1.documents.get', DocumentIdRequest, DocumentView);
export const RagDocumentsDelete = subject(
  'rag.v1.documents.delete',
  DocumentIdRequest,
  DeletedReply,
);

/** The chunks nearest a query vector, fused with full-text search, within the caller's clearance. */
export const RagRetrieve = subject('rag.v1.retrieve', RetrieveRequest, RetrieveReply);

/**
 * A question answered from a collection: screened, retrieved within the caller's clearance,
 * redacted, generated as an interactive inference job, checked, metered. Answers when the
 * answer is whole; with `streamId` it relays the answer meanwhile on `RagAnswerStream`.
 */
export const RagQuery = subject('rag.v1.query', RagQueryRequest, RagQueryReply);

/** Tokens estimated against tokens the provider counted, per UTC day, for one tenant. */
export const RagUsageReconciliation = subject(
  'rag.v1.usage.reconciliation',
  ReconciliationQuery,
  ReconciliationReport,
);

/**
 * A streamed answer on `rag.v1.answer-stream.<streamId>` (core NATS): the gateway subscribes
 * before it asks `rag.v1.query`; the reply holds the whole answer should a message be missed.
 */
export const RagAnswerStream = event(RAG_ANSWER_STREAM_PREFIX, AnswerStreamEvent, {
  suffixed: true,
});
