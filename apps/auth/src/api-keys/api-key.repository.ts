import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { affectedRows } from '@lattice/database';

export interface ApiKeyRow {
  tenant_id: string;
  id: string;
  prefix: string;
  secret_hash: Buffer;
  name: string;
  owner_type: 'user' | 'service-account';
  owner_id: string;
  permissions: string[];
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

/**
 * API keys. Inside a tenant's scope a key is found by id; before the tenant is known, it is
 * found by prefix in platform-scoped work.
 */
@Injectable()
export class ApiKeyRepository {
  async insert(
    em: EntityManager,
    key: {
      tenantId: string;
      prefix: string;
      secretHash: Buffer;
      name: string;
      ownerType: 'user' | 'service-account';
      ownerId: string;
      permissions: string[];
      expiresAt: string | null;
      createdBy: string;
    },
  ): Promise<ApiKeyRow> {
    const [row]: ApiKeyRow[] = await em.query(
      `INSERT INTO auth.api_keys
         (tenant_id, prefix, secret_hash, name, owner_type, owner_id, permissions, expires_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
      [
        key.tenantId,
        key.prefix,
        key.secretHash,
        key.name,
        key.ownerType,
        key.ownerId,
        key.permissions,
        key.expiresAt,
        key.createdBy,
      ],
    );
    return row!;
  }

  /** Every key of the tenant, oldest first. */
  listOfTenant(em: EntityManager, tenantId: string): Promise<ApiKeyRow[]> {
    return em.query(`SELECT * FROM auth.api_keys WHERE tenant_id = $1 ORDER BY created_at, id`, [
      tenantId,
    ]);
  }

  /** The key, locked until the transaction ends. */
  async lockById(em: EntityManager, tenantId: string, id: string): Promise<ApiKeyRow | undefined> {
    const rows: ApiKeyRow[] = await em.query(
      `SELECT * FROM auth.api_keys WHERE id = $1 AND tenant_id = $2 FOR UPDATE`,
      [id, tenantId],
    );
    return rows[0];
  }

  async byPrefix(em: EntityManager, prefix: string): Promise<ApiKeyRow | undefined> {
    const rows: ApiKeyRow[] = await em.query(`SELECT * FROM auth.api_keys WHERE prefix = $1`, [
      prefix,
    ]);
    return rows[0];
  }

  async revoke(em: EntityManager, id: string, at: Date): Promise<ApiKeyRow> {
    // TypeORM answers an UPDATE with [rows, count]
    const [[row]]: [ApiKeyRow[]] = await em.query(
      `UPDATE auth.api_keys SET revoked_at = $2 WHERE id = $1 RETURNING *`,
      [id, at],
    );
    return row!;
  }

  async touch(em: EntityManager, id: string, at: Date): Promise<void> {
    await em.query(`UPDATE auth.api_keys SET last_used_at = $2 WHERE id = $1`, [id, at]);
  }

  /** The keys a user owns, as the data subject sees them: no secret hash. */
  personalData(em: EntityManager, userId: string): Promise<Record<string, unknown>[]> {
    return em.query(
      `SELECT id, name, prefix, permissions, created_at AS "createdAt",
              last_used_at AS "lastUsedAt", expires_at AS "expiresAt", revoked_at AS "revokedAt"
         FROM auth.api_keys WHERE owner_type = 'user' AND owner_id = $1 ORDER BY created_at`,
      [userId],
    );
  }

  /** Removes every key a user owns; returns how many went. */
  async removeAllOfUser(em: EntityManager, userId: string): Promise<number> {
    return affectedRows(
      em,
      `DELETE FROM auth.api_keys WHERE owner_type = 'user' AND owner_id = $1`,
      [userId],
    );
  }
}
