import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** A row of `audit.consents`: the subject and a recording user sealed under their keys. */
export interface ConsentRow {
  tenant_id: string;
  id: string;
  subject_key: string;
  subject_id: string;
  purpose: string;
  policy_version: string;
  granted: boolean;
  recorded_at: Date;
  recorded_by_type: string;
  recorded_by_key: string | null;
  recorded_by_id: string;
}

/** Rows of `audit.consents`, append-only, always inside the tenant's scoped transaction. */
@Injectable()
export class ConsentRepository {
  async insert(em: EntityManager, row: ConsentRow): Promise<ConsentRow> {
    const [stored]: ConsentRow[] = await em.query(
      `INSERT INTO audit.consents (tenant_id, id, subject_key, subject_id, purpose, policy_version,
         granted, recorded_at, recorded_by_type, recorded_by_key, recorded_by_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
      [
        row.tenant_id,
        row.id,
        row.subject_key,
        row.subject_id,
        row.purpose,
        row.policy_version,
        row.granted,
        row.recorded_at,
        row.recorded_by_type,
        row.recorded_by_key,
        row.recorded_by_id,
      ],
    );
    return stored!;
  }

  /** A subject's records in the order they were made, after the cursor's position. */
  bySubjectKey(
    em: EntityManager,
    tenantId: string,
    keyId: string,
    after: unknown[] | null,
    limit: number,
  ): Promise<ConsentRow[]> {
    return em.query(
      `SELECT * FROM audit.consents WHERE tenant_id = $1 AND subject_key = $2
         AND ($3::timestamptz IS NULL OR (recorded_at, id) > ($3::timestamptz, $4::uuid))
       ORDER BY recorded_at, id LIMIT $5`,
      [tenantId, keyId, after?.[0] ?? null, after?.[1] ?? null, limit],
    );
  }
}
