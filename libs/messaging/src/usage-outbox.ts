import { DomainError, ErrorCode, UsageRecorded, UsageReports } from '@lattice/contracts';
import type { Logger } from 'pino';
import type { JetStreamPublisher } from './jetstream';
import {
  TransactionalOutbox,
  type NewOutboxRow,
  type OutboxRow,
  type OutboxStore,
} from './transactional-outbox';

/**
 * What the outbox runs its statements on: the caller's transaction (a TypeORM `EntityManager`,
 * a `pg` client inside `BEGIN`).
 */
export interface SqlExecutor {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/** A service's own usage outbox table, in its own schema. */
export interface UsageOutboxTableName {
  schema: string;
  /** `usage_outbox` when left out. */
  table?: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** The table's name, quoted; refused unless it is a plain lower-case identifier. */
export function usageOutboxTable({ schema, table = 'usage_outbox' }: UsageOutboxTableName): string {
  for (const name of [schema, table])
    if (!IDENTIFIER.test(name)) throw new Error(`"${name}" is not a plain SQL identifier`);
  return `"${schema}"."${table}"`;
}

/**
 * The rows of a usage outbox table (`usageOutboxTableSql` in `@lattice/database` creates one):
 * `id bigserial, tenant_id uuid, event_id text, subject_suffix text, payload jsonb`.
 */
export class UsageOutboxStore<Tx extends SqlExecutor> implements OutboxStore<Tx> {
  private readonly table: string;

  constructor(name: UsageOutboxTableName) {
    this.table = usageOutboxTable(name);
  }

  async insert(tx: Tx, row: NewOutboxRow): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.table} (tenant_id, event_id, subject_suffix, payload)
       VALUES ($1, $2, $3, $4)`,
      [row.tenantId, row.eventId, row.subjectSuffix, JSON.stringify(row.payload)],
    );
  }

  /** The oldest waiting reports, locked; a batch another replica is relaying is skipped. */
  async oldest(tx: Tx, limit: number): Promise<OutboxRow[]> {
    return (await tx.query(
      `SELECT id, event_id AS "eventId", subject_suffix AS "subjectSuffix", payload
         FROM ${this.table} ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [limit],
    )) as OutboxRow[];
  }

  /** A report the stream acknowledged is sent: its row goes. */
  async delete(tx: Tx, id: string): Promise<void> {
    await tx.query(`DELETE FROM ${this.table} WHERE id = $1`, [id]);
  }
}

export interface UsageOutboxOptions<Tx extends SqlExecutor> {
  /** The service's own table; it writes no other schema. */
  table: UsageOutboxTableName;
  /**
   * One transaction that may read and delete every tenant's rows of the table: for a table
   * made by `usageOutboxTableSql`, `TenantScope.runForDispatch`.
   */
  inScope: <T>(work: (tx: Tx) => Promise<T>) => Promise<T>;
  publisher: Pick<JetStreamPublisher, 'publish'>;
  logger: Logger;
  /** What the reports are called in the log. Default "usage reports". */
  label?: string;
  batch?: number;
}

/**
 * Usage for `USAGE` (tokens, GPU-seconds, stored bytes), written in the transaction of the
 * change that used it and relayed once that commits, under the report's own `messageId` as the
 * JetStream message id: a service that stops between the two publishes it when it (or another
 * replica) runs again, the stream drops a second publish, and the tenants service counts a
 * `messageId` once. A rolled-back change leaves no report behind.
 *
 * Call `kick()` after the transaction commits to publish at once; otherwise the relay polls
 * every second between `onApplicationBootstrap` and `onApplicationShutdown`.
 */
export class UsageOutbox<Tx extends SqlExecutor = SqlExecutor> extends TransactionalOutbox<
  typeof UsageReports,
  Tx
> {
  private readonly store: UsageOutboxStore<Tx>;

  constructor(options: UsageOutboxOptions<Tx>) {
    const store = new UsageOutboxStore<Tx>(options.table);
    super({
      contract: UsageReports,
      store,
      inScope: options.inScope,
      publisher: options.publisher,
      logger: options.logger,
      label: options.label ?? 'usage reports',
      batch: options.batch,
    });
    this.store = store;
  }

  /**
   * Writes the report in the caller's transaction `tx`. A report the USAGE contract refuses is
   * refused here, before it is stored, so it can never hold up the relay.
   */
  async record(tx: Tx, report: UsageRecorded): Promise<void> {
    const parsed = UsageRecorded.safeParse(report);
    if (!parsed.success)
      throw new DomainError(ErrorCode.ValidationFailed, 'the usage report is not valid', {
        issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      });
    await this.store.insert(tx, {
      tenantId: parsed.data.tenantId,
      eventId: parsed.data.messageId,
      subjectSuffix: parsed.data.resource,
      payload: parsed.data,
    });
  }
}
