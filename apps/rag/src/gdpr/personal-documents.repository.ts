import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { affectedRows } from '@lattice/database';

export interface OwnedDocument {
  id: string;
  collectionId: string;
  sourceName: string;
  classification: string;
  createdAt: Date;
}

/** The documents a person added, as subject access and erasure see them, in a tenant's scope. */
@Injectable()
export class PersonalDocumentsRepository {
  async ownedBy(em: EntityManager, ownerId: string): Promise<OwnedDocument[]> {
    return (await em.query(
      `SELECT id, collection_id AS "collectionId", source_name AS "sourceName",
              classification, created_at AS "createdAt"
         FROM rag.documents WHERE owner_id = $1 ORDER BY created_at, id`,
      [ownerId],
    )) as OwnedDocument[];
  }

  /** The documents stay the tenant's; nothing on them names the person any more. */
  disown(em: EntityManager, ownerId: string): Promise<number> {
    return affectedRows(
      em,
      `UPDATE rag.documents SET owner_id = 'erased-subject', updated_at = now() WHERE owner_id = $1`,
      [ownerId],
    );
  }
}
