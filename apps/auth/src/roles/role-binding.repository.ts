import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { affectedRows } from '@lattice/database';

/** Who holds which role, in the tenant whose scope the transaction runs in. */
@Injectable()
export class RoleBindingRepository {
  async rolesOf(em: EntityManager, principalId: string): Promise<string[]> {
    const rows: { role: string }[] = await em.query(
      `SELECT role FROM auth.role_bindings WHERE principal_id = $1 ORDER BY role`,
      [principalId],
    );
    return rows.map((r) => r.role);
  }

  /** Binds the role; binding one already held changes nothing. */
  async bind(
    em: EntityManager,
    binding: { tenantId: string; principalId: string; role: string; grantedBy: string },
  ): Promise<void> {
    await em.query(
      `INSERT INTO auth.role_bindings (tenant_id, principal_id, role, granted_by)
       VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [binding.tenantId, binding.principalId, binding.role, binding.grantedBy],
    );
  }

  async unbind(em: EntityManager, principalId: string, role: string): Promise<void> {
    await em.query(`DELETE FROM auth.role_bindings WHERE principal_id = $1 AND role = $2`, [
      principalId,
      role,
    ]);
  }

  /** How many principals hold the role. */
  async holders(em: EntityManager, role: string): Promise<number> {
    const [row]: { n: number }[] = await em.query(
      `SELECT count(*)::int AS n FROM auth.role_bindings WHERE role = $1`,
      [role],
    );
    return row!.n;
  }

  /** Whether the id names a user or a service account of the tenant: who may hold roles. */
  async principalExists(em: EntityManager, id: string): Promise<boolean> {
    const rows: unknown[] = await em.query(
      `SELECT 1 FROM auth.users WHERE id = $1 UNION ALL SELECT 1 FROM auth.service_accounts WHERE id = $1`,
      [id],
    );
    return rows.length > 0;
  }

  /** A data subject's roles, with who granted them and when. */
  personalData(em: EntityManager, principalId: string): Promise<Record<string, unknown>[]> {
    return em.query(
      `SELECT role, granted_by AS "grantedBy", granted_at AS "grantedAt"
         FROM auth.role_bindings WHERE principal_id = $1 ORDER BY role`,
      [principalId],
    );
  }

  /** Removes every binding of the principal; returns how many went. */
  async removeAllOf(em: EntityManager, principalId: string): Promise<number> {
    return affectedRows(em, `DELETE FROM auth.role_bindings WHERE principal_id = $1`, [
      principalId,
    ]);
  }
}
