import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { affectedRows } from '@lattice/database';

/** A collection as the service keeps it. */
export interface CollectionRow {
  id: string;
  tenantId: string;
  ownerId: string;
  name: string;
  description: string | null;
  embeddingModel: string;
  embeddingDimension: number;
  documentCount: number;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `
  c.id, c.tenant_id AS "tenantId", c.owner_id AS "ownerId", c.name, c.description,
  c.embedding_model AS "embeddingModel", c.embedding_dimension AS "embeddingDimension",
  (SELECT count(*)::int FROM rag.documents d
    WHERE d.tenant_id = c.tenant_id AND d.collection_id = c.id) AS "documentCount",
  c.created_at AS "createdAt", c.updated_at AS "updatedAt"`;

/** Collections. Every statement runs in a tenant's scope: row-level security shows it its own. */
@Injectable()
export class CollectionRepository {
  async insert(
    em: EntityManager,
    row: Omit<CollectionRow, 'documentCount' | 'createdAt' | 'updatedAt'>,
  ): Promise<void> {
    await em.query(
      `INSERT INTO rag.collections
         (id, tenant_id, owner_id, name, description, embedding_model, embedding_dimension)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        row.id,
        row.tenantId,
        row.ownerId,
        row.name,
        row.description,
        row.embeddingModel,
        row.embeddingDimension,
      ],
    );
  }

  async nameTaken(em: EntityManager, name: string): Promise<boolean> {
    const rows = (await em.query(`SELECT 1 FROM rag.collections WHERE name = $1`, [
      name,
    ])) as unknown[];
    return rows.length > 0;
  }

  async get(em: EntityManager, id: string, lock = false): Promise<CollectionRow | undefined> {
    const rows = (await em.query(
      `SELECT ${COLUMNS} FROM rag.collections c WHERE c.id = $1${lock ? ' FOR SHARE' : ''}`,
      [id],
    )) as CollectionRow[];
    return rows[0];
  }

  /** Newest first, after a (createdAt, id) position. */
  async list(
    em: EntityManager,
    after: [string, string] | null,
    limit: number,
  ): Promise<CollectionRow[]> {
    const params: unknown[] = [limit];
    let where = '';
    if (after) {
      params.push(after[0], after[1]);
      where = `WHERE (c.created_at, c.id) < ($2::timestamptz, $3::uuid)`;
    }
    return (await em.query(
      `SELECT ${COLUMNS} FROM rag.collections c ${where}
        ORDER BY c.created_at DESC, c.id DESC LIMIT $1`,
      params,
    )) as CollectionRow[];
  }

  async delete(em: EntityManager, id: string): Promise<boolean> {
    return (await affectedRows(em, `DELETE FROM rag.collections WHERE id = $1`, [id])) > 0;
  }

  /** The collection's own HNSW index over its chunks, made by the schema owner for the caller's tenant. */
  async createVectorIndex(em: EntityManager, id: string): Promise<void> {
    await em.query(`SELECT rag.create_collection_vector_index($1)`, [id]);
  }

  async dropVectorIndex(em: EntityManager, id: string): Promise<void> {
    await em.query(`SELECT rag.drop_collection_vector_index($1)`, [id]);
  }
}
