import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCode, type GdprServiceRequest } from '@lattice/contracts';
import { mayActOnSubject } from '@lattice/authz';
import { TenantScope } from '@lattice/database';
import type { RequestContext } from '@lattice/request-context';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The subjects themselves, or a caller whose permissions on that user allow the action. */
function assertMay(ctx: RequestContext, action: 'manage' | 'delete', request: GdprServiceRequest) {
  if (!mayActOnSubject(ctx, action, request.tenantId, request.subjectId))
    throw new DomainError(ErrorCode.Forbidden, `not allowed to ${action} this user's data`);
}

/**
 * What the auth service holds about a user, for subject access (Article 15/20), and its
 * erasure (Article 17): the account, its roles, its sessions and the API keys it owns.
 * Secrets (password hash, token and key hashes) are never part of an export.
 */
@Injectable()
export class PersonalDataService {
  constructor(private readonly scope: TenantScope) {}

  async export(ctx: RequestContext, request: GdprServiceRequest): Promise<unknown> {
    assertMay(ctx, 'manage', request);
    if (!UUID.test(request.subjectId)) return null;
    return this.scope.run(request.tenantId, async (em) => {
      const [user] = await em.query(
        `SELECT id, email, display_name AS "displayName", status, created_at AS "createdAt",
                last_login_at AS "lastLoginAt", locked_until AS "lockedUntil"
           FROM auth.users WHERE id = $1`,
        [request.subjectId],
      );
      if (!user) return null;
      const [roles, sessions, apiKeys] = await Promise.all([
        em.query(
          `SELECT role, granted_by AS "grantedBy", granted_at AS "grantedAt"
             FROM auth.role_bindings WHERE principal_id = $1 ORDER BY role`,
          [request.subjectId],
        ),
        em.query(
          `SELECT family_id AS "session", issued_at AS "issuedAt", expires_at AS "expiresAt",
                  used_at AS "usedAt", revoked_at AS "revokedAt"
             FROM auth.refresh_tokens WHERE user_id = $1 ORDER BY issued_at`,
          [request.subjectId],
        ),
        em.query(
          `SELECT id, name, prefix, permissions, created_at AS "createdAt",
                  last_used_at AS "lastUsedAt", expires_at AS "expiresAt", revoked_at AS "revokedAt"
             FROM auth.api_keys WHERE owner_type = 'user' AND owner_id = $1 ORDER BY created_at`,
          [request.subjectId],
        ),
      ]);
      return { user, roles, sessions, apiKeys };
    });
  }

  /** Removes the account and everything hanging off it; returns how many records went. */
  async erase(ctx: RequestContext, request: GdprServiceRequest): Promise<number> {
    assertMay(ctx, 'delete', request);
    if (!UUID.test(request.subjectId)) return 0;
    return this.scope.run(request.tenantId, async (em) => {
      const counts = await Promise.all([
        em.query(`DELETE FROM auth.api_keys WHERE owner_type = 'user' AND owner_id = $1`, [
          request.subjectId,
        ]),
        em.query(`DELETE FROM auth.role_bindings WHERE principal_id = $1`, [request.subjectId]),
        em.query(`DELETE FROM auth.refresh_tokens WHERE user_id = $1`, [request.subjectId]),
      ]);
      const [, users]: [unknown, number] = await em.query(`DELETE FROM auth.users WHERE id = $1`, [
        request.subjectId,
      ]);
      // TypeORM answers a DELETE with [rows, count]
      return counts.reduce((sum, [, n]: [unknown, number]) => sum + n, 0) + users;
    });
  }
}
