import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { affectedRows } from '@lattice/database';

export interface UserRow {
  tenant_id: string;
  id: string;
  email: string;
  display_name: string | null;
  password_hash: string;
  status: 'active' | 'locked' | 'disabled';
  failed_attempts: number;
  locked_until: Date | null;
  last_login_at: Date | null;
  created_at: Date;
}

/** Users of the tenant whose scope the transaction runs in. */
@Injectable()
export class UserRepository {
  async insert(
    em: EntityManager,
    user: { tenantId: string; email: string; displayName?: string; passwordHash: string },
  ): Promise<UserRow | undefined> {
    const rows: UserRow[] = await em.query(
      `INSERT INTO auth.users (tenant_id, email, display_name, password_hash)
       VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, email) DO NOTHING RETURNING *`,
      [user.tenantId, user.email, user.displayName ?? null, user.passwordHash],
    );
    return rows[0];
  }

  async byId(em: EntityManager, id: string, lock = false): Promise<UserRow | undefined> {
    const rows: UserRow[] = await em.query(
      `SELECT * FROM auth.users WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
      [id],
    );
    return rows[0];
  }

  async byEmail(em: EntityManager, email: string): Promise<UserRow | undefined> {
    const rows: UserRow[] = await em.query(`SELECT * FROM auth.users WHERE email = $1 FOR UPDATE`, [
      email,
    ]);
    return rows[0];
  }

  async page(em: EntityManager, limit: number, after?: [string, string]): Promise<UserRow[]> {
    return em.query(
      `SELECT * FROM auth.users
        WHERE ($1::timestamptz IS NULL OR (created_at, id) > ($1::timestamptz, $2::uuid))
        ORDER BY created_at, id LIMIT $3`,
      [after?.[0] ?? null, after?.[1] ?? null, limit],
    );
  }

  async count(em: EntityManager): Promise<number> {
    const [row] = await em.query(`SELECT count(*)::int AS n FROM auth.users`);
    return row.n;
  }

  async recordFailure(
    em: EntityManager,
    id: string,
    threshold: number,
    lockUntil: Date,
  ): Promise<{ locked: boolean }> {
    // TypeORM answers an UPDATE with [rows, count]
    const [[row]]: [{ failed_attempts: number; status: string }[]] = await em.query(
      `UPDATE auth.users
          SET failed_attempts = CASE WHEN failed_attempts + 1 >= $2 THEN 0 ELSE failed_attempts + 1 END,
              status = CASE WHEN failed_attempts + 1 >= $2 THEN 'locked' ELSE status END,
              locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3 ELSE locked_until END,
              updated_at = now()
        WHERE id = $1 RETURNING failed_attempts, status`,
      [id, threshold, lockUntil],
    );
    return { locked: row?.status === 'locked' && row.failed_attempts === 0 };
  }

  async recordLogin(em: EntityManager, id: string, at: Date, rehash?: string): Promise<void> {
    await em.query(
      `UPDATE auth.users
          SET failed_attempts = 0, locked_until = NULL, last_login_at = $2, updated_at = now(),
              status = CASE WHEN status = 'locked' THEN 'active' ELSE status END,
              password_hash = COALESCE($3, password_hash)
        WHERE id = $1`,
      [id, at, rehash ?? null],
    );
  }

  /** Whether the user exists and is not disabled: the only users whose API keys still work. */
  async isEnabled(em: EntityManager, id: string): Promise<boolean> {
    const rows: unknown[] = await em.query(
      `SELECT 1 FROM auth.users WHERE id = $1 AND status <> 'disabled'`,
      [id],
    );
    return rows.length > 0;
  }

  /** Holds the first-admin set-up to one replica at a time, until the transaction ends. */
  async lockFirstAdminSetup(em: EntityManager): Promise<void> {
    await em.query(`SELECT pg_advisory_xact_lock(hashtext('auth.first-admin'))`);
  }

  /** The account as a data subject sees it: no password hash. */
  async personalData(em: EntityManager, id: string): Promise<Record<string, unknown> | undefined> {
    const rows: Record<string, unknown>[] = await em.query(
      `SELECT id, email, display_name AS "displayName", status, created_at AS "createdAt",
              last_login_at AS "lastLoginAt", locked_until AS "lockedUntil"
         FROM auth.users WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  /** Removes the account; returns how many rows went (0 or 1). */
  async remove(em: EntityManager, id: string): Promise<number> {
    return affectedRows(em, `DELETE FROM auth.users WHERE id = $1`, [id]);
  }

  async setStatus(em: EntityManager, id: string, status: 'active' | 'disabled'): Promise<void> {
    await em.query(
      `UPDATE auth.users SET status = $2, failed_attempts = 0, locked_until = NULL, updated_at = now()
        WHERE id = $1`,
      [id, status],
    );
  }
}
