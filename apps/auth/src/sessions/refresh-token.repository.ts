import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { affectedRows } from '@lattice/database';

export interface RefreshTokenRow {
  tenant_id: string;
  id: string;
  family_id: string;
  parent_id: string | null;
  user_id: string;
  secret_hash: Buffer;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
}

/**
 * Refresh tokens of the tenant whose scope the transaction runs in. Each login starts a
 * family; each refresh adds the next token of it, with the one it replaced as its parent.
 */
@Injectable()
export class RefreshTokenRepository {
  async insert(
    em: EntityManager,
    token: {
      tenantId: string;
      id: string;
      familyId: string;
      parentId: string | null;
      userId: string;
      secretHash: Buffer;
      issuedAt: Date;
      expiresAt: Date;
    },
  ): Promise<void> {
    await em.query(
      `INSERT INTO auth.refresh_tokens
         (tenant_id, id, family_id, parent_id, user_id, secret_hash, issued_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        token.tenantId,
        token.id,
        token.familyId,
        token.parentId,
        token.userId,
        token.secretHash,
        token.issuedAt,
        token.expiresAt,
      ],
    );
  }

  /** The token, locked until the transaction ends: two refreshes of it take turns. */
  async lockById(em: EntityManager, id: string): Promise<RefreshTokenRow | undefined> {
    const rows: RefreshTokenRow[] = await em.query(
      `SELECT * FROM auth.refresh_tokens WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0];
  }

  /** Whether a token that replaced this one has itself been used. */
  async successorUsed(em: EntityManager, id: string): Promise<boolean> {
    const [row]: { n: number }[] = await em.query(
      `SELECT count(*)::int AS n FROM auth.refresh_tokens WHERE parent_id = $1 AND used_at IS NOT NULL`,
      [id],
    );
    return row!.n > 0;
  }

  async markUsed(em: EntityManager, id: string, at: Date): Promise<void> {
    await em.query(`UPDATE auth.refresh_tokens SET used_at = $2 WHERE id = $1`, [id, at]);
  }

  /** Ends a session: every token of the family not yet revoked. */
  async revokeFamily(em: EntityManager, familyId: string, at: Date): Promise<void> {
    await em.query(
      `UPDATE auth.refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL`,
      [familyId, at],
    );
  }

  /** Ends every session of a user. */
  async revokeAllOfUser(em: EntityManager, userId: string): Promise<void> {
    await em.query(
      `UPDATE auth.refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`,
      [userId],
    );
  }

  /** A data subject's sessions, without their secrets. */
  personalData(em: EntityManager, userId: string): Promise<Record<string, unknown>[]> {
    return em.query(
      `SELECT family_id AS "session", issued_at AS "issuedAt", expires_at AS "expiresAt",
              used_at AS "usedAt", revoked_at AS "revokedAt"
         FROM auth.refresh_tokens WHERE user_id = $1 ORDER BY issued_at`,
      [userId],
    );
  }

  /** Removes every token of a user; returns how many went. */
  async removeAllOfUser(em: EntityManager, userId: string): Promise<number> {
    return affectedRows(em, `DELETE FROM auth.refresh_tokens WHERE user_id = $1`, [userId]);
  }
}
