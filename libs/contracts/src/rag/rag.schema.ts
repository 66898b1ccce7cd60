import { z } from 'zod';
import { PageQuery, Uuid, jsonObject, page } from '../common/common.schema';
import { storableJson, storedText, text } from '../common/text.schema';

/**
 * How secret a document is. A caller retrieves the documents at or under its clearance, which
 * its roles give it (see `clearanceOfRoles` in the RAG service).
 */
export const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;
export const Classification = z.enum(CLASSIFICATIONS);
export type Classification = z.infer<typeof Classification>;

export const DOCUMENT_STATUSES = ['pending', 'processing', 'ready', 'failed'] as const;
export const DocumentStatus = z.enum(DOCUMENT_STATUSES);
export type DocumentStatus = z.infer<typeof DocumentStatus>;

/** The formats ingest parses. */
export const DOCUMENT_MEDIA_TYPES = [
  'text/plain',
  'text/markdown',
  'text/html',
  'application/pdf',
] as const;
export const DocumentMediaType = z.enum(DOCUMENT_MEDIA_TYPES);
export type DocumentMediaType = z.infer<typeof DocumentMediaType>;

/** The most a document's content may weigh, decoded: it travels in one NATS message. */
export const DOCUMENT_MAX_BYTES = 512 * 1024;
/** pgvector indexes vectors of up to 2,000 dimensions with HNSW. */
export const EMBEDDING_MAX_DIMENSION = 2_000;
export const RETRIEVE_MAX_TOP_K = 100;

/**
 * What `details.reason` says when a RAG call is refused for one of these, beside the
 * `ErrorCode` it travels with.
 */
export const RagErrorReason = {
  /** A vector whose length is not the collection's embedding dimension (VALIDATION_FAILED). */
  EmbeddingDimensionMismatch: 'embedding_dimension_mismatch',
  /** Vectors of another embedding model than the collection's (CONFLICT): re-embed instead. */
  EmbeddingModelMismatch: 'embedding_model_mismatch',
  /** Another collection of the tenant has that name (CONFLICT). */
  CollectionNameTaken: 'collection_name_taken',
  /** Content that is not valid in its encoding (VALIDATION_FAILED). */
  DocumentContentInvalid: 'document_content_invalid',
  /** Content over DOCUMENT_MAX_BYTES once decoded (PAYLOAD_TOO_LARGE). */
  DocumentTooLarge: 'document_too_large',
} as const;
export type RagErrorReason = (typeof RagErrorReason)[keyof typeof RagErrorReason];

const Text = (max: number) => text({ max, min: 1, trim: true });

/** Who an embedding model is, as its provider names it: `text-embedding-3-small`, `bge-m3`. */
export const EmbeddingModelName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export const EmbeddingDimension = z.number().int().min(1).max(EMBEDDING_MAX_DIMENSION);

/** A document's metadata: a small JSON object, matched by retrieval filters. */
export const DocumentMetadata = jsonObject('metadata', { maxDepth: 4, maxBytes: 8 * 1024 });
const StoredJson = () => storableJson(z.record(storedText(), z.json()));

// collections

export const CreateCollectionRequest = z
  .object({
    name: Text(200),
    description: text({ max: 1_000, multiline: true }).optional(),
    /**
     * Every chunk of the collection is embedded by this model, at this dimension: the RAG
     * service's configured model when left out. Ingest refuses to mix in another.
     */
    embeddingModel: EmbeddingModelName.optional(),
    embeddingDimension: EmbeddingDimension.optional(),
    /** The tenant a platform operator creates it for; a tenant's callers leave it out. */
    tenantId: Uuid.optional(),
  })
  .strict();
export type CreateCollectionRequest = z.infer<typeof CreateCollectionRequest>;

export const CollectionView = z.object({
  id: Uuid,
  tenantId: Uuid,
  name: storedText(),
  description: storedText().nullable(),
  embeddingModel: storedText(),
  embeddingDimension: z.number().int(),
  documentCount: z.number().int().min(0),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type CollectionView = z.infer<typeof CollectionView>;

export const CollectionIdRequest = z.object({ id: Uuid, tenantId: Uuid.optional() }).strict();
export type CollectionIdRequest = z.infer<typeof CollectionIdRequest>;

export const ListCollectionsQuery = PageQuery.extend({ tenantId: Uuid.optional() }).strict();
export type ListCollectionsQuery = z.infer<typeof ListCollectionsQuery>;

export const CollectionPage = page(CollectionView);
export type CollectionPage = z.infer<typeof CollectionPage>;

export const DeletedReply = z.object({ id: Uuid, deleted: z.literal(true) });
export type DeletedReply = z.infer<typeof DeletedReply>;

// documents

export const CreateDocumentRequest = z
  .object({
    collectionId: Uuid,
    /** Where it came from: a file name or URL, shown in citations. */
    sourceName: Text(500),
    mediaType: DocumentMediaType,
    /** The document itself: text as it is, or the bytes (a PDF) in base64. */
    content: text({
      min: 1,
      max: Math.ceil((DOCUMENT_MAX_BYTES * 4) / 3) + 4_096,
      multiline: true,
    }),
    contentEncoding: z.enum(['utf8', 'base64']).default('utf8'),
    classification: Classification.default('internal'),
    metadata: DocumentMetadata.default({}),
    tenantId: Uuid.optional(),
  })
  .strict();
export type CreateDocumentRequest = z.infer<typeof CreateDocumentRequest>;

export const DocumentView = z.object({
  id: Uuid,
  tenantId: Uuid,
  collectionId: Uuid,
  sourceName: storedText(),
  mediaType: DocumentMediaType,
  /** SHA-256 of the content, hex: the same content in a collection is one document. */
  contentHash: z.string().regex(/^[0-9a-f]{64}$/),
  classification: Classification,
  metadata: StoredJson(),
  status: DocumentStatus,
  sizeBytes: z.number().int().min(0),
  chunkCount: z.number().int().min(0),
  /** Why ingest failed, as `<code>: <message>` (a parse or embedding error code); else null. */
  error: storedText().nullable(),
  /** The scheduler job (`GET /v1/jobs/{id}`) that ingests it, with its progress; null before one is queued. */
  ingestJobId: Uuid.nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type DocumentView = z.infer<typeof DocumentView>;

/** `created` is false when the collection held the same content already: that one is returned. */
export const CreateDocumentReply = z.object({ document: DocumentView, created: z.boolean() });
export type CreateDocumentReply = z.infer<typeof CreateDocumentReply>;

export const DocumentIdRequest = z
  .object({ collectionId: Uuid, id: Uuid, tenantId: Uuid.optional() })
  .strict();
export type DocumentIdRequest = z.infer<typeof DocumentIdRequest>;

export const ListDocumentsQuery = PageQuery.extend({
  collectionId: Uuid,
  status: DocumentStatus.optional(),
  tenantId: Uuid.optional(),
}).strict();
export type ListDocumentsQuery = z.infer<typeof ListDocumentsQuery>;

export const DocumentPage = page(DocumentView);
export type DocumentPage = z.infer<typeof DocumentPage>;

// retrieval

export const RetrievalFilters = z
  .object({
    /** Chunks of documents whose metadata contains this object (JSON containment). */
    metadata: DocumentMetadata.optional(),
    /** Only these classifications (always within the caller's clearance). */
    classifications: z.array(Classification).min(1).max(4).optional(),
  })
  .strict();
export type RetrievalFilters = z.infer<typeof RetrievalFilters>;

export const RetrieveRequest = z
  .object({
    collectionId: Uuid,
    /** The question embedded by the collection's model. */
    vector: z.array(z.number().finite()).min(1).max(EMBEDDING_MAX_DIMENSION),
    /** The model that embedded `vector`; refused when it is not the collection's. */
    embeddingModel: EmbeddingModelName.optional(),
    /** The question's words, for full-text search; without them the search is by vector only. */
    text: text({ max: 4_000, multiline: true }).optional(),
    topK: z.number().int().min(1).max(RETRIEVE_MAX_TOP_K).default(10),
    filters: RetrievalFilters.default({}),
    tenantId: Uuid.optional(),
  })
  .strict();
export type RetrieveRequest = z.infer<typeof RetrieveRequest>;

export const VECTOR_SEARCH_MODES = ['pgvector-hnsw', 'exact-scan'] as const;
export const VectorSearchMode = z.enum(VECTOR_SEARCH_MODES);
export type VectorSearchMode = z.infer<typeof VectorSearchMode>;

export const RetrievalHit = z.object({
  chunkId: Uuid,
  documentId: Uuid,
  sourceName: storedText(),
  ordinal: z.number().int().min(0),
  text: storedText(),
  tokenCount: z.number().int().min(0),
  classification: Classification,
  metadata: StoredJson(),
  /** Reciprocal rank fusion score: higher is better. */
  score: z.number(),
  /** Cosine distance to the query vector (0 same direction, 2 opposite); null if only text found it. */
  distance: z.number().nullable(),
  /** 1-based places in each ranking, null where that ranking did not find it. */
  vectorRank: z.number().int().min(1).nullable(),
  textRank: z.number().int().min(1).nullable(),
});
export type RetrievalHit = z.infer<typeof RetrievalHit>;

export const RetrieveReply = z.object({
  collectionId: Uuid,
  embeddingModel: storedText(),
  search: VectorSearchMode,
  /** The highest classification the caller was shown. */
  clearance: Classification,
  hits: z.array(RetrievalHit),
});
export type RetrieveReply = z.infer<typeof RetrieveReply>;
