import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { affectedRows } from '@lattice/database';

export interface CustomRoleRow {
  name: string;
  description: string;
  permissions: string[];
}

/** The custom roles of the tenant whose scope the transaction runs in. */
@Injectable()
export class RoleRepository {
  list(em: EntityManager): Promise<CustomRoleRow[]> {
    return em.query(`SELECT name, description, permissions FROM auth.roles ORDER BY name`);
  }

  /** False when the tenant already has a role of that name. */
  async insert(
    em: EntityManager,
    role: { tenantId: string; name: string; description: string; permissions: string[] },
  ): Promise<boolean> {
    const rows: unknown[] = await em.query(
      `INSERT INTO auth.roles (tenant_id, name, description, permissions) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING RETURNING name`,
      [role.tenantId, role.name, role.description, role.permissions],
    );
    return rows.length > 0;
  }

  /** False when there was no such custom role. */
  async remove(em: EntityManager, name: string): Promise<boolean> {
    const deleted = await affectedRows(
      em,
      `DELETE FROM auth.roles WHERE name = $1 RETURNING name`,
      [name],
    );
    return deleted > 0;
  }
}
