import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Classification, DocumentMediaType, DocumentStatus } from '@lattice/contracts';
import { affectedRows } from '@lattice/database';

/** A document as the service keeps it (its body apart: only ingest reads that). */
export interface DocumentRow {
  id: string;
  tenantId: string;
  collectionId: string;
  ownerId: string;
  sourceName: string;
  mediaType: DocumentMediaType;
  contentHash: string;
  classification: Classification;
  metadata: Record<string, unknown>;
  status: DocumentStatus;
  sizeBytes: number;
  chunkCount: number;
  error: string | null;
  /** The scheduler job that ingests it, once submitted. */
  ingestJobId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewDocument = Omit<
  DocumentRow,
  'status' | 'chunkCount' | 'error' | 'ingestJobId' | 'createdAt' | 'updatedAt'
> & { body: Buffer };

const COLUMNS = `
  id, tenant_id AS "tenantId", collection_id AS "collectionId", owner_id AS "ownerId",
  source_name AS "sourceName", media_type AS "mediaType", content_hash AS "contentHash",
  classification, metadata, status, size_bytes::int AS "sizeBytes", chunk_count AS "chunkCount",
  error, ingest_job_id AS "ingestJobId", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Documents. Every statement runs in a tenant's scope: row-level security shows it its own. */
@Injectable()
export class DocumentRepository {
  /**
   * Stores a pending document unless the collection holds the same content; answers the row
   * now stored under that content either way, and whether this call stored it.
   */
  async insertOnce(
    em: EntityManager,
    doc: NewDocument,
  ): Promise<{ row: DocumentRow; created: boolean }> {
    const inserted = (await em.query(
      `INSERT INTO rag.documents
         (id, tenant_id, collection_id, owner_id, source_name, media_type, content_hash,
          classification, metadata, status, size_bytes, body)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $11)
       ON CONFLICT (tenant_id, collection_id, content_hash) DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        doc.id,
        doc.tenantId,
        doc.collectionId,
        doc.ownerId,
        doc.sourceName,
        doc.mediaType,
        doc.contentHash,
        doc.classification,
        JSON.stringify(doc.metadata),
        doc.sizeBytes,
        doc.body,
      ],
    )) as DocumentRow[];
    if (inserted[0]) return { row: inserted[0], created: true };
    const [existing] = (await em.query(
      `SELECT ${COLUMNS} FROM rag.documents WHERE collection_id = $1 AND content_hash = $2`,
      [doc.collectionId, doc.contentHash],
    )) as DocumentRow[];
    if (!existing) throw new Error('a document of that content conflicted and then vanished');
    return { row: existing, created: false };
  }

  /** Whether the collection holds a document of this content. */
  async holdsContent(
    em: EntityManager,
    collectionId: string,
    contentHash: string,
  ): Promise<boolean> {
    const rows = (await em.query(
      `SELECT 1 FROM rag.documents WHERE collection_id = $1 AND content_hash = $2`,
      [collectionId, contentHash],
    )) as unknown[];
    return rows.length > 0;
  }

  async get(
    em: EntityManager,
    collectionId: string,
    id: string,
    lock = false,
  ): Promise<DocumentRow | undefined> {
    const rows = (await em.query(
      `SELECT ${COLUMNS} FROM rag.documents WHERE collection_id = $1 AND id = $2${
        lock ? ' FOR UPDATE' : ''
      }`,
      [collectionId, id],
    )) as DocumentRow[];
    return rows[0];
  }

  /** Newest first, after a (createdAt, id) position, within the classifications given. */
  async list(
    em: EntityManager,
    filters: { collectionId: string; status?: DocumentStatus; classifications: Classification[] },
    after: [string, string] | null,
    limit: number,
  ): Promise<DocumentRow[]> {
    const params: unknown[] = [filters.collectionId, filters.classifications, limit];
    const where = [`collection_id = $1`, `classification = ANY($2::text[])`];
    if (filters.status) {
      params.push(filters.status);
      where.push(`status = $${params.length}`);
    }
    if (after) {
      params.push(after[0], after[1]);
      where.push(
        `(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`,
      );
    }
    return (await em.query(
      `SELECT ${COLUMNS} FROM rag.documents WHERE ${where.join(' AND ')}
        ORDER BY created_at DESC, id DESC LIMIT $3`,
      params,
    )) as DocumentRow[];
  }

  async delete(em: EntityManager, collectionId: string, id: string): Promise<boolean> {
    return (
      (await affectedRows(em, `DELETE FROM rag.documents WHERE collection_id = $1 AND id = $2`, [
        collectionId,
        id,
      ])) > 0
    );
  }

  /** Every document of the collection, locked: what a collection's deletion takes with it. */
  async ofCollection(em: EntityManager, collectionId: string): Promise<DocumentRow[]> {
    return (await em.query(
      `SELECT ${COLUMNS} FROM rag.documents WHERE collection_id = $1 FOR UPDATE`,
      [collectionId],
    )) as DocumentRow[];
  }

  async setIngestJob(em: EntityManager, id: string, jobId: string): Promise<void> {
    await em.query(`UPDATE rag.documents SET ingest_job_id = $2 WHERE id = $1`, [id, jobId]);
  }

  /** The content kept for ingest; null once ingest has chunked it. */
  async body(em: EntityManager, id: string): Promise<Buffer | null> {
    const rows = (await em.query(`SELECT body FROM rag.documents WHERE id = $1`, [id])) as {
      body: Buffer | null;
    }[];
    return rows[0]?.body ?? null;
  }

  async setStatus(
    em: EntityManager,
    id: string,
    change: {
      status: DocumentStatus;
      error?: string | null;
      chunkCount?: number;
      dropBody?: boolean;
    },
  ): Promise<void> {
    await em.query(
      `UPDATE rag.documents
          SET status = $2, error = $3, chunk_count = coalesce($4, chunk_count),
              body = CASE WHEN $5 THEN NULL ELSE body END, updated_at = now()
        WHERE id = $1`,
      [
        id,
        change.status,
        change.error ?? null,
        change.chunkCount ?? null,
        change.dropBody ?? false,
      ],
    );
  }
}
