import { DataSource, type EntitySchema, type MixedList } from 'typeorm';
import { escapeIdentifier, escapeLiteral } from 'pg';

export interface ServiceDatabaseOptions {
  /** URL of a role that owns the schema (and may create the runtime role); used for migrations. */
  adminUrl: string;
  /** The service's own schema, e.g. `tenants`. */
  schema: string;
  /** Password of the runtime role; optional where the server trusts local connections. */
  appPassword?: string;
  entities: MixedList<Function | string | EntitySchema>;
  migrations: MixedList<Function | string>;
  poolSize?: number;
  applicationName?: string;
  /** Tables the runtime role may only read and insert into: no UPDATE, no DELETE. */
  appendOnlyTables?: string[];
}

/** The runtime role of a service: owns nothing, cannot bypass row-level security. */
export function runtimeRole(schema: string): string {
  return `lattice_${schema}`;
}

function withCredentials(url: string, user: string, password: string | undefined): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(user);
  parsed.password = password ? encodeURIComponent(password) : '';
  return parsed.toString();
}

/**
 * Creates the schema and the runtime role, then runs the service's migrations, all as the
 * owner. The runtime role gets DML on the schema's tables and nothing else: no TRUNCATE
 * (row-level security does not cover it), no DDL, no BYPASSRLS.
 */
export async function migrateServiceDatabase(options: ServiceDatabaseOptions): Promise<string[]> {
  const admin = new DataSource({
    type: 'postgres',
    url: options.adminUrl,
    schema: options.schema,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    applicationName: `${options.applicationName ?? options.schema}-migrate`,
    logging: false,
  });
  await admin.initialize();
  try {
    const role = runtimeRole(options.schema);
    const schema = escapeIdentifier(options.schema);
    const roleId = escapeIdentifier(role);
    await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await ensureRole(admin, role, options.appPassword);
    const ran = await admin.runMigrations({ transaction: 'each' });
    await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${roleId}`);
    await admin.query(
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${roleId}`,
    );
    await admin.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ${roleId}`);
    await admin.query(
      `REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA ${schema} FROM ${roleId}`,
    );
    await admin.query(`REVOKE ALL ON ${schema}.migrations FROM ${roleId}`);
    for (const table of options.appendOnlyTables ?? []) {
      await admin.query(
        `REVOKE UPDATE, DELETE ON ${schema}.${escapeIdentifier(table)} FROM ${roleId}`,
      );
    }
    return ran.map((m) => m.name);
  } finally {
    await admin.destroy();
  }
}

async function ensureRole(
  admin: DataSource,
  role: string,
  password: string | undefined,
): Promise<void> {
  const id = escapeIdentifier(role);
  const attributes = `LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE${
    password ? ` PASSWORD ${escapeLiteral(password)}` : ''
  }`;
  const exists = await admin.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [role]);
  try {
    await admin.query(
      exists.length ? `ALTER ROLE ${id} ${attributes}` : `CREATE ROLE ${id} ${attributes}`,
    );
  } catch (error) {
    // another process created it between our look and our create: theirs is as good as ours
    const code = (error as { code?: string }).code;
    if (code !== '42710' && code !== '23505') throw error;
    if (password) await admin.query(`ALTER ROLE ${id} ${attributes}`);
  }
}

/** The service's runtime connection pool, as its own non-owner role. */
export function createRuntimeDataSource(options: ServiceDatabaseOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: withCredentials(options.adminUrl, runtimeRole(options.schema), options.appPassword),
    schema: options.schema,
    entities: options.entities,
    synchronize: false,
    migrationsRun: false,
    applicationName: options.applicationName ?? options.schema,
    poolSize: options.poolSize ?? 10,
    // failures surface as exceptions; logging them here would print query parameters
    logging: false,
    extra: { statement_timeout: 15_000, idle_in_transaction_session_timeout: 30_000 },
  });
}
