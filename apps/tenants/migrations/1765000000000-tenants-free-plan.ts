import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The `free` plan: the plan column's CHECK admits it. */
export class TenantsFreePlan1765000000000 implements MigrationInterface {
  name = 'TenantsFreePlan1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tenants.tenants DROP CONSTRAINT tenants_plan_check`);
    await q.query(`
      ALTER TABLE tenants.tenants ADD CONSTRAINT tenants_plan_check
        CHECK (plan IN ('free', 'starter', 'professional', 'enterprise', 'custom'))`);
  }

  /** Fails while a tenant is on the free plan: move it to another plan first. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tenants.tenants DROP CONSTRAINT tenants_plan_check`);
    await q.query(`
      ALTER TABLE tenants.tenants ADD CONSTRAINT tenants_plan_check
        CHECK (plan IN ('starter', 'professional', 'enterprise', 'custom'))`);
  }
}
