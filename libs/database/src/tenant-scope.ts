import type { DataSource, EntityManager } from 'typeorm';
import { escapeIdentifier } from 'pg';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Every unit of work runs in a transaction that tells PostgreSQL whose rows it may see.
 * `set_config(..., true)` lasts until the transaction ends, so a pooled connection never
 * carries one tenant's context into another's work.
 */
export class TenantScope {
  constructor(private readonly dataSource: DataSource) {}

  /** Work on one tenant's rows; row-level security hides every other tenant's. */
  run<T>(tenantId: string, work: (em: EntityManager) => Promise<T>): Promise<T> {
    if (!UUID.test(tenantId)) throw new Error('tenant scope needs a tenant id');
    return this.dataSource.transaction(async (em) => {
      await em.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
      return work(em);
    });
  }

  /**
   * Platform-level work on directory tables (the list of tenants itself). Policies of
   * tenant-owned data ignore this scope: it never reveals one tenant's data to another.
   */
  runAsPlatform<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (em) => {
      await em.query(`SELECT set_config('app.scope', 'platform', true)`);
      return work(em);
    });
  }

  /**
   * A dispatcher's work across every tenant's rows of the tables that grant it
   * (`dispatchAccessSql`): the scheduler choosing jobs for workers. Tenant-facing reads never
   * use it; tables without that policy show it nothing.
   */
  runForDispatch<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (em) => {
      await em.query(`SELECT set_config('app.scope', 'dispatch', true)`);
      return work(em);
    });
  }
}

const CURRENT_TENANT = `NULLIF(current_setting('app.tenant_id', true), '')::uuid`;
const PLATFORM_SCOPE = `current_setting('app.scope', true) = 'platform'`;

/** Row-level security for a table of one tenant's data, enforced on its owner too. */
export function tenantIsolationSql(schema: string, table: string, column = 'tenant_id'): string[] {
  const t = `${escapeIdentifier(schema)}.${escapeIdentifier(table)}`;
  const c = escapeIdentifier(column);
  return [
    `ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY tenant_isolation ON ${t} USING (${c} = ${CURRENT_TENANT}) WITH CHECK (${c} = ${CURRENT_TENANT})`,
  ];
}

/**
 * Row-level security for a directory table: a tenant sees its own row, and platform-scoped
 * work (creating and listing tenants) sees them all.
 */
export function directoryIsolationSql(schema: string, table: string, column: string): string[] {
  const t = `${escapeIdentifier(schema)}.${escapeIdentifier(table)}`;
  const c = escapeIdentifier(column);
  const rule = `(${c} = ${CURRENT_TENANT} OR ${PLATFORM_SCOPE})`;
  return [
    `ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY directory_isolation ON ${t} USING ${rule} WITH CHECK ${rule}`,
  ];
}

/**
 * A second policy on a tenant-owned table (beside `tenantIsolationSql`'s) that lets work in
 * `TenantScope.runForDispatch` read and write every tenant's rows: what a scheduler needs to
 * choose among tenants. The platform scope gains nothing from it.
 */
export function dispatchAccessSql(schema: string, table: string): string[] {
  const t = `${escapeIdentifier(schema)}.${escapeIdentifier(table)}`;
  const rule = `(current_setting('app.scope', true) = 'dispatch')`;
  return [`CREATE POLICY dispatch_access ON ${t} USING ${rule} WITH CHECK ${rule}`];
}
