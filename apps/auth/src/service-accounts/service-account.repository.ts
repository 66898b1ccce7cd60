import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface ServiceAccountRow {
  id: string;
  name: string;
  created_at: Date;
}

/** Service accounts of the tenant whose scope the transaction runs in. */
@Injectable()
export class ServiceAccountRepository {
  /** The new account, or undefined when the tenant has one of that name. */
  async insert(
    em: EntityManager,
    account: { tenantId: string; name: string; createdBy: string },
  ): Promise<ServiceAccountRow | undefined> {
    const rows: ServiceAccountRow[] = await em.query(
      `INSERT INTO auth.service_accounts (tenant_id, name, created_by) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING id, name, created_at`,
      [account.tenantId, account.name, account.createdBy],
    );
    return rows[0];
  }

  list(em: EntityManager): Promise<ServiceAccountRow[]> {
    return em.query(`SELECT id, name, created_at FROM auth.service_accounts ORDER BY name`);
  }

  async exists(em: EntityManager, id: string): Promise<boolean> {
    const rows: unknown[] = await em.query(`SELECT 1 FROM auth.service_accounts WHERE id = $1`, [
      id,
    ]);
    return rows.length > 0;
  }
}
