import { Injectable } from '@nestjs/common';
import type { AuditEventFilters } from '@lattice/contracts';
import { copyRows, type CopyValue } from '@lattice/database';
import type { EntityManager } from 'typeorm';
import type { ChainPosition, StoredEvent } from '../chain/hash-chain';
import { GENESIS_HASH } from '../chain/hash-chain';

interface EventRow {
  tenant_id: string;
  seq: string;
  id: string;
  occurred_at: Date;
  recorded_at: Date;
  actor_type: string;
  actor_id: string;
  actor_key: string | null;
  actor_sealed: string | null;
  actor_roles: string[];
  action: string;
  resource_type: string;
  resource_id: string | null;
  outcome: string;
  source_ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  trace_id: string | null;
  metadata: Record<string, unknown>;
  personal: string[];
  subject_key: string | null;
  prev_hash: string;
  hash: string;
}

/** Each column of an event's row, and its value from the event as COPY carries it. */
const EVENT_COLUMNS: { name: string; value: (e: StoredEvent) => CopyValue }[] = [
  { name: 'tenant_id', value: (e) => e.tenantId },
  { name: 'seq', value: (e) => e.seq },
  { name: 'id', value: (e) => e.id },
  { name: 'occurred_at', value: (e) => e.occurredAt },
  { name: 'recorded_at', value: (e) => e.recordedAt },
  { name: 'actor_type', value: (e) => e.actorType },
  { name: 'actor_id', value: (e) => e.actorId },
  { name: 'actor_key', value: (e) => e.actorKey },
  { name: 'actor_sealed', value: (e) => e.actorSealed ?? null },
  { name: 'actor_roles', value: (e) => JSON.stringify(e.actorRoles) },
  { name: 'action', value: (e) => e.action },
  { name: 'resource_type', value: (e) => e.resourceType },
  { name: 'resource_id', value: (e) => e.resourceId },
  { name: 'outcome', value: (e) => e.outcome },
  { name: 'source_ip', value: (e) => e.sourceIp },
  { name: 'user_agent', value: (e) => e.userAgent },
  { name: 'request_id', value: (e) => e.requestId },
  { name: 'trace_id', value: (e) => e.traceId },
  { name: 'metadata', value: (e) => JSON.stringify(e.metadata) },
  { name: 'personal', value: (e) => JSON.stringify(e.personal) },
  { name: 'subject_key', value: (e) => e.subjectKey },
  { name: 'prev_hash', value: (e) => e.prevHash },
  { name: 'hash', value: (e) => e.hash },
];
const EVENT_NAMES = EVENT_COLUMNS.map((c) => c.name);
const COLUMNS = EVENT_NAMES.join(', ');

/**
 * Where an append stages its rows: a temporary table of the connection's own, emptied at
 * every commit. PostgreSQL refuses COPY into a table under row-level security, so the rows are
 * copied here and moved with one INSERT, which the tenant's policy checks row by row.
 */
const STAGING = 'audit_events_staging';

/** Whether `append` failed because an event's id is stored already (a redelivery, say). */
export function isDuplicateId(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } })
    .driverError;
  return driverError?.code === '23505' && driverError.constraint === 'events_id_key';
}

/** Where the filters narrow a query: an actor is matched by their key when they have one. */
export interface EventQuery extends AuditEventFilters {
  actorKeyId?: string | null;
}

/** Rows of `audit.events` and `audit.chain_heads`, inside the tenant's scoped transaction. */
@Injectable()
export class AuditEventRepository {
  /** The tenant's chain head, locked until the transaction ends: one writer per chain. */
  async lockHead(em: EntityManager, tenantId: string): Promise<ChainPosition> {
    const locked = () =>
      em.query(`SELECT seq, hash FROM audit.chain_heads WHERE tenant_id = $1 FOR UPDATE`, [
        tenantId,
      ]) as Promise<{ seq: string; hash: string }[]>;
    let [row] = await locked();
    if (!row) {
      // a tenant's first events: its head starts at the genesis
      await em.query(
        `INSERT INTO audit.chain_heads (tenant_id, seq, hash) VALUES ($1, 0, $2)
         ON CONFLICT (tenant_id) DO NOTHING`,
        [tenantId, GENESIS_HASH],
      );
      [row] = await locked();
    }
    return { seq: Number(row!.seq), hash: row!.hash };
  }

  /**
   * What a writer holding the head's lock needs to know before it extends the chain, read in
   * one statement: the highest sequence number stored (0 when there is none), and whether
   * events are parked.
   */
  async beforeAppend(
    em: EntityManager,
    tenantId: string,
  ): Promise<{ lastSeq: number; parked: boolean }> {
    const [row]: { last_seq: string | null; parked: boolean }[] = await em.query(
      `SELECT (SELECT max(seq) FROM audit.events WHERE tenant_id = $1) AS last_seq,
                EXISTS (SELECT 1 FROM audit.parked_events WHERE tenant_id = $1) AS parked`,
      [tenantId],
    );
    return {
      lastSeq: row?.last_seq ? Number(row.last_seq) : 0,
      parked: row?.parked ?? false,
    };
  }

  /**
   * Which of `ids` the tenant's trail holds already, one index probe per id whatever the
   * planner believes of the trail: given `id = ANY(...)`, it scanned every row of a trail its
   * statistics thought short (a tenant new since the last ANALYZE), so a batch cost as much
   * as the trail was long.
   */
  async storedIds(em: EntityManager, tenantId: string, ids: string[]): Promise<Set<string>> {
    const rows: { id: string }[] = await em.query(
      `SELECT x.id::text AS id FROM unnest($2::uuid[]) AS x(id),
              LATERAL (SELECT 1 FROM audit.events WHERE tenant_id = $1 AND id = x.id LIMIT 1) AS hit`,
      [tenantId, ids],
    );
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Appends linked events to the tenant's chain and moves its head to the last of them: the
   * rows are copied into the connection's staging table, then moved into the trail and the
   * head moved in one statement. A duplicate id fails the whole statement, with an error that
   * `isDuplicateId` recognises.
   */
  async append(
    em: EntityManager,
    tenantId: string,
    events: StoredEvent[],
    head: ChainPosition,
  ): Promise<void> {
    if (events.length === 0) return;
    // made once per connection; a transaction that rolled back took it with it, so it is
    // asked for every time (a catalogue lookup when it is there)
    await em.query(
      `CREATE TEMPORARY TABLE IF NOT EXISTS ${STAGING} (LIKE audit.events) ON COMMIT DELETE ROWS`,
    );
    await copyRows(
      em,
      `pg_temp.${STAGING}`,
      EVENT_NAMES,
      events.map((event) => EVENT_COLUMNS.map(({ value }) => value(event))),
    );
    await em.query(
      `WITH head AS (
         UPDATE audit.chain_heads SET seq = $1, hash = $2, updated_at = now() WHERE tenant_id = $3
       )
       INSERT INTO audit.events (${COLUMNS})
       SELECT ${COLUMNS} FROM pg_temp.${STAGING}`,
      [head.seq, head.hash, tenantId],
    );
  }

  async head(em: EntityManager, tenantId: string): Promise<ChainPosition> {
    const [row]: { seq: string; hash: string }[] = await em.query(
      `SELECT seq, hash FROM audit.chain_heads WHERE tenant_id = $1`,
      [tenantId],
    );
    return row ? { seq: Number(row.seq), hash: row.hash } : { seq: 0, hash: GENESIS_HASH };
  }

  /**
   * The chain head and the first and last sequence numbers stored, read in one statement so
   * that they describe the same moment: a batch moves the head and writes its rows at once.
   */
  async chainState(
    em: EntityManager,
    tenantId: string,
  ): Promise<{ head: ChainPosition; stored: { first: number; last: number } | null }> {
    const [row]: {
      head_seq: string | null;
      head_hash: string | null;
      first: string | null;
      last: string | null;
    }[] = await em.query(
      `SELECT h.seq AS head_seq, h.hash AS head_hash, e.first, e.last
         FROM (SELECT min(seq) AS first, max(seq) AS last FROM audit.events WHERE tenant_id = $1) e
         LEFT JOIN audit.chain_heads h ON h.tenant_id = $1`,
      [tenantId],
    );
    return {
      head: row?.head_seq
        ? { seq: Number(row.head_seq), hash: row.head_hash! }
        : { seq: 0, hash: GENESIS_HASH },
      stored: row?.first ? { first: Number(row.first), last: Number(row.last) } : null,
    };
  }

  /** The tenants that have a trail, for platform-scoped jobs. */
  async tenants(em: EntityManager): Promise<string[]> {
    const rows: { tenant_id: string }[] = await em.query(
      `SELECT tenant_id FROM audit.chain_heads WHERE seq > 0 ORDER BY tenant_id`,
    );
    return rows.map((r) => r.tenant_id);
  }

  /**
   * A page of the tenant's events, newest first (or oldest first), after a position. The
   * statement names the tenant for the index; row-level security would hide other tenants'
   * rows even if it did not.
   */
  async page(
    em: EntityManager,
    tenantId: string,
    query: EventQuery,
    order: 'newest' | 'oldest',
    afterSeq: number | null,
    limit: number,
  ): Promise<StoredEvent[]> {
    const where = ['tenant_id = $1'];
    const params: unknown[] = [tenantId];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (query.from) add((p) => `occurred_at >= ${p}::timestamptz`, query.from);
    if (query.to) add((p) => `occurred_at < ${p}::timestamptz`, query.to);
    if (query.actorType) add((p) => `actor_type = ${p}`, query.actorType);
    if (query.actorId) {
      // a person with a key: everything they did, themselves or through their API keys
      if (query.actorKeyId) add((p) => `actor_key = ${p}::uuid`, query.actorKeyId);
      // anyone else (a service, an API key by its id) is stored in clear; sealed ids never match
      else add((p) => `actor_id = ${p}`, query.actorId);
    }
    if (query.action?.endsWith('.*')) {
      add((p) => `action LIKE ${p}`, `${query.action.slice(0, -1)}%`);
    } else if (query.action) add((p) => `action = ${p}`, query.action);
    if (query.resourceType) add((p) => `resource_type = ${p}`, query.resourceType);
    if (query.resourceId) add((p) => `resource_id = ${p}`, query.resourceId);
    if (query.outcome) add((p) => `outcome = ${p}`, query.outcome);
    if (afterSeq !== null) add((p) => `seq ${order === 'newest' ? '<' : '>'} ${p}`, afterSeq);
    params.push(limit);
    return this.select(
      em,
      `WHERE ${where.join(' AND ')}
        ORDER BY seq ${order === 'newest' ? 'DESC' : 'ASC'} LIMIT $${params.length}`,
      params,
    );
  }

  /** Events in chain order from a sequence number on, for verification. */
  async chainFrom(
    em: EntityManager,
    tenantId: string,
    fromSeq: number,
    limit: number,
  ): Promise<StoredEvent[]> {
    return this.select(em, `WHERE tenant_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3`, [
      tenantId,
      fromSeq,
      limit,
    ]);
  }

  /** Events sealed under a subject's key, as actor or as the subject of personal fields. */
  async bySubjectKey(
    em: EntityManager,
    tenantId: string,
    keyId: string,
    limit: number,
  ): Promise<StoredEvent[]> {
    return this.select(
      em,
      `WHERE tenant_id = $1 AND (actor_key = $2 OR subject_key = $2) ORDER BY seq LIMIT $3`,
      [tenantId, keyId, limit],
    );
  }

  /** Stored events, as `tail` (a WHERE clause and an order) picks them. */
  private async select(em: EntityManager, tail: string, params: unknown[]): Promise<StoredEvent[]> {
    const rows: EventRow[] = await em.query(`SELECT ${COLUMNS} FROM audit.events ${tail}`, params);
    return rows.map(toStored);
  }

  async countBySubjectKey(em: EntityManager, tenantId: string, keyId: string): Promise<number> {
    const [{ n }] = await em.query(
      `SELECT count(*)::int AS n FROM audit.events
        WHERE tenant_id = $1 AND (actor_key = $2 OR subject_key = $2)`,
      [tenantId, keyId],
    );
    return n as number;
  }

  /** The first sequence number still stored, and the last; null when there is none. */
  async bounds(
    em: EntityManager,
    tenantId: string,
  ): Promise<{ first: number; last: number } | null> {
    const [row]: { first: string | null; last: string | null }[] = await em.query(
      `SELECT min(seq) AS first, max(seq) AS last FROM audit.events WHERE tenant_id = $1`,
      [tenantId],
    );
    return row?.first ? { first: Number(row.first), last: Number(row.last) } : null;
  }

  /** The sequence number of the first event at or after `cutoff`, if there is one. */
  async firstSeqSince(em: EntityManager, tenantId: string, cutoff: Date): Promise<number | null> {
    const [row]: { seq: string | null }[] = await em.query(
      `SELECT min(seq) AS seq FROM audit.events WHERE tenant_id = $1 AND occurred_at >= $2`,
      [tenantId, cutoff],
    );
    return row?.seq ? Number(row.seq) : null;
  }

  async hashAt(em: EntityManager, tenantId: string, seq: number): Promise<string | null> {
    const [row]: { hash: string }[] = await em.query(
      `SELECT hash FROM audit.events WHERE tenant_id = $1 AND seq = $2`,
      [tenantId, seq],
    );
    return row?.hash ?? null;
  }
}

function toStored(r: EventRow): StoredEvent {
  return {
    tenantId: r.tenant_id,
    seq: Number(r.seq),
    id: r.id,
    occurredAt: r.occurred_at.toISOString(),
    recordedAt: r.recorded_at.toISOString(),
    actorType: r.actor_type,
    actorId: r.actor_id,
    actorKey: r.actor_key,
    // absent, not null, where there is none: the hash covers it only where it is there
    ...(r.actor_sealed !== null ? { actorSealed: r.actor_sealed } : {}),
    actorRoles: r.actor_roles,
    action: r.action,
    resourceType: r.resource_type,
    resourceId: r.resource_id,
    outcome: r.outcome,
    sourceIp: r.source_ip,
    userAgent: r.user_agent,
    requestId: r.request_id,
    traceId: r.trace_id,
    metadata: r.metadata,
    personal: r.personal,
    subjectKey: r.subject_key,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
