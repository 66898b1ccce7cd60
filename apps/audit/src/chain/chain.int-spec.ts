import { randomUUID } from 'node:crypto';
import { AuditVerify, ErrorCode } from '@lattice/contracts';
import { failure, sqlFailure } from '@lattice/testing';
import {
  auditEvent,
  platformAdmin,
  startAuditTestBed,
  tenantMember,
  type AuditTestBed,
} from '../../test/audit.test-bed';
import { ChainService } from './chain.service';
import { chainHash, type ChainedEvent } from './hash-chain';

jest.setTimeout(60_000);

/**
 * The hash chain as an auditor relies on it: every hand edit of the table, made as the owner
 * with the append-only trigger out of the way, is caught by verification.
 */
describe(ChainService.name, () => {
  let bed: AuditTestBed;

  beforeAll(async () => {
    bed = await startAuditTestBed();
  });
  afterAll(() => bed?.close());

  /** A tenant with `n` events written and checkpointed at `checkpointAt` (if given). */
  async function trail(n: number, checkpointAt?: number): Promise<string> {
    const tenantId = randomUUID();
    for (let i = 0; i < n; i++) await bed.publish(auditEvent(tenantId));
    await bed.caughtUp();
    expect(await bed.count(tenantId)).toBe(n);
    if (checkpointAt) await bed.app.get(ChainService).checkpoint(tenantId, checkpointAt);
    return tenantId;
  }
  const verify = (tenantId: string) =>
    bed.rpc.request(AuditVerify, { tenantId }, platformAdmin(), { timeoutMs: 20_000 });
  /** Runs SQL as the owner with the append-only trigger disabled, as an intruder would. */
  const tamper = async (sql: string, params: unknown[]) => {
    await bed.ownerDb.transaction(async (em) => {
      await em.query(`ALTER TABLE audit.events DISABLE TRIGGER events_append_only`);
      await em.query(sql, params);
      await em.query(`ALTER TABLE audit.events ENABLE TRIGGER events_append_only`);
    });
  };

  /** A stored row as the chain hashes it. */
  const chained = (row: Record<string, unknown>): ChainedEvent => ({
    tenantId: row.tenant_id as string,
    seq: Number(row.seq),
    id: row.id as string,
    occurredAt: (row.occurred_at as Date).toISOString(),
    recordedAt: (row.recorded_at as Date).toISOString(),
    actorType: row.actor_type as string,
    actorId: row.actor_id as string,
    actorKey: row.actor_key as string | null,
    ...(row.actor_sealed !== null ? { actorSealed: row.actor_sealed as string } : {}),
    actorRoles: row.actor_roles as string[],
    action: row.action as string,
    resourceType: row.resource_type as string,
    resourceId: row.resource_id as string | null,
    outcome: row.outcome as string,
    sourceIp: row.source_ip as string | null,
    userAgent: row.user_agent as string | null,
    requestId: row.request_id as string | null,
    traceId: row.trace_id as string | null,
    metadata: row.metadata as Record<string, unknown>,
    personal: row.personal as string[],
    subjectKey: row.subject_key as string | null,
  });
  const rowsOf = (tenantId: string): Promise<Record<string, unknown>[]> =>
    bed.ownerDb.query(`SELECT * FROM audit.events WHERE tenant_id = $1 ORDER BY seq`, [tenantId]);
  const windHead = (tenantId: string, seq: number, hash: string) =>
    bed.ownerDb.query(`UPDATE audit.chain_heads SET seq = $2, hash = $3 WHERE tenant_id = $1`, [
      tenantId,
      seq,
      hash,
    ]);
  /** Writes a well-linked row after the last one stored, as a forger would, past the head. */
  const forgeAfterLast = async (tenantId: string): Promise<string> => {
    const last = (await rowsOf(tenantId)).pop()!;
    const forged: ChainedEvent = {
      ...chained(last),
      seq: Number(last.seq) + 1,
      id: randomUUID(),
      action: 'test.forged',
    };
    await bed.ownerDb.query(
      `INSERT INTO audit.events (tenant_id, seq, id, occurred_at, recorded_at, actor_type, actor_id,
         actor_key, actor_sealed, actor_roles, action, resource_type, resource_id, outcome,
         source_ip, user_agent, request_id, trace_id, metadata, personal, subject_key, prev_hash, hash)
       SELECT tenant_id, $2, $3, occurred_at, recorded_at, actor_type, actor_id, actor_key,
              actor_sealed, actor_roles, $4, resource_type, resource_id, outcome, source_ip, user_agent,
              request_id, trace_id, metadata, personal, subject_key, $5, $6
         FROM audit.events WHERE tenant_id = $1 AND seq = $7`,
      [
        tenantId,
        forged.seq,
        forged.id,
        forged.action,
        last.hash,
        chainHash(forged, last.hash as string),
        Number(last.seq),
      ],
    );
    return forged.id;
  };

  it('numbers each tenant’s events 1, 2, 3… with every event linked to the one before', async () => {
    const tenantId = await trail(25);
    const rows: { seq: string; prev_hash: string; hash: string }[] = await bed.ownerDb.query(
      `SELECT seq, prev_hash, hash FROM audit.events WHERE tenant_id = $1 ORDER BY seq`,
      [tenantId],
    );
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash);
    const report = await verify(tenantId);
    expect(report).toMatchObject({
      valid: true,
      headSeq: 25,
      eventsChecked: 25,
      firstBreak: null,
    });
    expect(report.publicKey).toMatch(/BEGIN PUBLIC KEY/);
  });

  it('catches a row edited by hand', async () => {
    const tenantId = await trail(10, 10);
    await tamper(
      `UPDATE audit.events SET outcome = 'success', action = 'test.covered-up' WHERE tenant_id = $1 AND seq = 4`,
      [tenantId],
    );
    expect((await verify(tenantId)).firstBreak).toMatchObject({ seq: 4, reason: 'hash-mismatch' });
  });

  it('catches a row deleted by hand, in the middle or at the end', async () => {
    const middle = await trail(10);
    await tamper(`DELETE FROM audit.events WHERE tenant_id = $1 AND seq = 6`, [middle]);
    expect((await verify(middle)).firstBreak).toMatchObject({ seq: 6, reason: 'missing-event' });

    const end = await trail(10);
    await tamper(`DELETE FROM audit.events WHERE tenant_id = $1 AND seq = 10`, [end]);
    expect((await verify(end)).firstBreak).toMatchObject({ seq: 10, reason: 'missing-event' });

    const start = await trail(5);
    await tamper(`DELETE FROM audit.events WHERE tenant_id = $1 AND seq <= 2`, [start]);
    expect((await verify(start)).firstBreak).toMatchObject({ seq: 1, reason: 'missing-event' });
  });

  it('catches the newest events deleted and the head wound back to the last one left', async () => {
    const tenantId = await trail(8, 8);
    const rows = await rowsOf(tenantId);
    await tamper(`DELETE FROM audit.events WHERE tenant_id = $1 AND seq > 5`, [tenantId]);
    await windHead(tenantId, 5, rows[4]!.hash as string);
    // the chain 1..5 is whole and ends at its head, but a signed checkpoint vouched for 8
    expect((await verify(tenantId)).firstBreak).toMatchObject({ seq: 6, reason: 'missing-event' });
  });

  it('catches a head whose hash is not its last event’s', async () => {
    const tenantId = await trail(3);
    await windHead(tenantId, 3, 'f'.repeat(64));
    expect(await verify(tenantId)).toMatchObject({
      valid: false,
      headSeq: 3,
      firstBreak: { seq: 3, reason: 'head-mismatch' },
    });
  });

  it('catches a well-linked row written past the head, and parks new events until it is gone', async () => {
    const tenantId = await trail(4);
    const forged = await forgeAfterLast(tenantId);
    expect((await verify(tenantId)).firstBreak).toMatchObject({
      seq: 5,
      eventId: forged,
      reason: 'head-mismatch',
    });
    // the forged row holds seq 5: new events wait, parked, instead of failing their batch on
    // every redelivery, and another tenant's events in the same batches go on being written
    const other = randomUUID();
    const waiting = [auditEvent(tenantId), auditEvent(other), auditEvent(tenantId)];
    for (const event of waiting) await bed.publish(event);
    await bed.publish(waiting[0]!, `resent-${randomUUID()}`);
    await bed.caughtUp();
    expect(await bed.count(other)).toBe(1);
    expect(await bed.count(tenantId)).toBe(5);
    const [{ parked }] = await bed.ownerDb.query(
      `SELECT count(*)::int AS parked FROM audit.parked_events WHERE tenant_id = $1`,
      [tenantId],
    );
    expect(parked).toBe(2);

    // once the forged row is removed, the parked events join the chain in order, then the next
    await tamper(`DELETE FROM audit.events WHERE tenant_id = $1 AND id = $2`, [tenantId, forged]);
    const next = auditEvent(tenantId);
    await bed.publish(next);
    await bed.caughtUp();
    const ids = (await rowsOf(tenantId)).map((r) => r.id);
    expect(ids.slice(4)).toEqual([waiting[0]!.id, waiting[2]!.id, next.id]);
    expect(await verify(tenantId)).toMatchObject({ valid: true, headSeq: 7, eventsChecked: 7 });
  });

  it('catches the oldest events deleted down to a periodic checkpoint: only retention cuts anchor', async () => {
    const tenantId = await trail(6, 3);
    await tamper(`DELETE FROM audit.events WHERE tenant_id = $1 AND seq <= 3`, [tenantId]);
    expect((await verify(tenantId)).firstBreak).toMatchObject({ seq: 1, reason: 'missing-event' });

    // nor does relabelling that checkpoint as a retention cut pass: the kind is signed
    await bed.ownerDb.transaction(async (em) => {
      await em.query(`ALTER TABLE audit.checkpoints DISABLE TRIGGER checkpoints_append_only`);
      await em.query(`UPDATE audit.checkpoints SET kind = 'retention' WHERE tenant_id = $1`, [
        tenantId,
      ]);
      await em.query(`ALTER TABLE audit.checkpoints ENABLE TRIGGER checkpoints_append_only`);
    });
    expect((await verify(tenantId)).firstBreak).toMatchObject({
      seq: 3,
      reason: 'checkpoint-signature',
    });
  });

  it('catches two rows swapped', async () => {
    const tenantId = await trail(8);
    for (const [from, to] of [
      [3, 1000],
      [5, 3],
      [1000, 5],
    ]) {
      await tamper(`UPDATE audit.events SET seq = $3 WHERE tenant_id = $1 AND seq = $2`, [
        tenantId,
        from,
        to,
      ]);
    }
    expect((await verify(tenantId)).firstBreak).toMatchObject({ seq: 3, reason: 'hash-mismatch' });
  });

  it('catches a rewrite that recomputed every hash after the edit, by the signed checkpoint', async () => {
    const tenantId = await trail(6, 6);
    // the intruder edits event 2 and re-links 2..6 so that every hash matches its content
    const rows = await rowsOf(tenantId);
    let prev = rows[0]!.hash as string;
    for (const row of rows.slice(1)) {
      const event = {
        ...chained(row),
        action: Number(row.seq) === 2 ? 'test.rewritten' : (row.action as string),
      };
      const hash = chainHash(event, prev);
      await tamper(
        `UPDATE audit.events SET action = $3, prev_hash = $4, hash = $5 WHERE tenant_id = $1 AND seq = $2`,
        [tenantId, event.seq, event.action, prev, hash],
      );
      prev = hash;
    }
    await windHead(tenantId, 6, prev);
    expect((await verify(tenantId)).firstBreak).toMatchObject({
      seq: 6,
      reason: 'checkpoint-mismatch',
    });
  });

  it('refuses UPDATE and DELETE to the service’s role, and to the owner through the trigger', async () => {
    const tenantId = await trail(2);
    for (const sql of [
      `UPDATE audit.events SET outcome = 'error'`,
      `DELETE FROM audit.events`,
      `TRUNCATE audit.events`,
      `UPDATE audit.checkpoints SET hash = 'x'`,
      `DELETE FROM audit.consents`,
    ]) {
      const error = await sqlFailure(
        bed.runtimeDb.transaction(async (em) => {
          await em.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
          await em.query(sql);
        }),
      );
      expect({ sql, code: error.code }).toEqual({ sql, code: '42501' });
    }
    for (const sql of [
      `UPDATE audit.events SET outcome = 'error' WHERE tenant_id = $1`,
      `DELETE FROM audit.events WHERE tenant_id = $1`,
    ]) {
      const error = await sqlFailure(bed.ownerDb.query(sql, [tenantId]));
      expect(error.message).toMatch(/append-only/);
    }
    expect(await bed.count(tenantId)).toBe(2);
    expect((await verify(tenantId)).valid).toBe(true);
  });

  it('refuses the retention function anything but whole segments that are old enough', async () => {
    const tenantId = await trail(4, 3);
    await bed.app.get(ChainService).checkpoint(tenantId, 4, 'retention');
    const call = (seq: number) =>
      bed.runtimeDb.transaction(async (em) => {
        await em.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId]);
        return em.query(`SELECT audit.remove_segment($1, $2)`, [tenantId, seq]);
      });
    // not between checkpoints, nor at a periodic one: only at a retention cut
    expect((await sqlFailure(call(2))).message).toMatch(/only up to a retention checkpoint/);
    expect((await sqlFailure(call(3))).message).toMatch(/only up to a retention checkpoint/);
    expect((await sqlFailure(call(4))).message).toMatch(/less than a day old/);
    expect(await bed.count(tenantId)).toBe(4);
  });

  it('lets a tenant’s reader verify its own chain and no other', async () => {
    const tenantId = await trail(1);
    const own = await bed.rpc.request(AuditVerify, {}, tenantMember(tenantId));
    expect(own).toMatchObject({ tenantId, valid: true, headSeq: 1 });
    const other = await failure(
      bed.rpc.request(AuditVerify, { tenantId: randomUUID() }, tenantMember(tenantId)),
    );
    expect(other.code).toBe(ErrorCode.Forbidden);
    const developer = await failure(
      bed.rpc.request(AuditVerify, {}, tenantMember(tenantId, ['developer'])),
    );
    expect(developer.code).toBe(ErrorCode.Forbidden);
    const bad = await failure(bed.rpc.request(AuditVerify, { tenantId: 'nope' }, platformAdmin()));
    expect(bad.code).toBe(ErrorCode.ValidationFailed);
  });
});
