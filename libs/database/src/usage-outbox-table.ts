import { escapeIdentifier } from 'pg';
import { dispatchAccessSql, tenantIsolationSql } from './tenant-scope';

/**
 * A migration's statements for a service's usage outbox (read and written by `UsageOutbox` in
 * `@lattice/messaging`), in the service's own schema: each row a tenant's report, under
 * row-level security, readable across tenants only by the relay's dispatch scope.
 */
export function usageOutboxTableSql(schema: string, table = 'usage_outbox'): string[] {
  const t = `${escapeIdentifier(schema)}.${escapeIdentifier(table)}`;
  return [
    `CREATE TABLE ${t} (
       id bigserial PRIMARY KEY,
       tenant_id uuid NOT NULL,
       -- the report's messageId: its JetStream message id and the tenants service's key
       event_id text NOT NULL,
       subject_suffix text NOT NULL,
       payload jsonb NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now()
     )`,
    `CREATE INDEX ${escapeIdentifier(`${table}_tenant_idx`)} ON ${t} (tenant_id)`,
    ...tenantIsolationSql(schema, table),
    ...dispatchAccessSql(schema, table),
  ];
}
