import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { JSONCodec } from 'nats';
import { loadConfig } from '@lattice/config';
import { AuditEvents, AuditVerify } from '@lattice/contracts';
import { createLogger } from '@lattice/logging';
import { eventually } from '@lattice/testing';
import {
  auditEvent,
  platformAdmin,
  startAuditTestBed,
  type AuditTestBed,
} from '../../test/audit.test-bed';
import { createAuditApp } from '../audit.app';
import { auditConfigSpec } from '../audit.config';
import { AuditIngestService } from './audit-ingest.service';

jest.setTimeout(90_000);

describe(AuditIngestService.name, () => {
  let bed: AuditTestBed;

  beforeAll(async () => {
    bed = await startAuditTestBed({ env: { AUDIT_BATCH_SIZE: '50' } });
  });
  afterAll(() => bed?.close());

  const verify = (tenantId: string) =>
    bed.rpc.request(AuditVerify, { tenantId }, platformAdmin(), { timeoutMs: 30_000 });
  const ids = async (tenantId: string): Promise<string[]> =>
    (
      (await bed.ownerDb.query(`SELECT id FROM audit.events WHERE tenant_id = $1 ORDER BY seq`, [
        tenantId,
      ])) as { id: string }[]
    ).map((r) => r.id);
  /** Bypasses the publisher's validation, as a buggy or hostile sender would. */
  const publishRaw = (tenantId: string, body: Uint8Array) =>
    bed.nats
      .jetstream()
      .publish(bed.ns.subject(`${AuditEvents.subject}.${tenantId}`), body, { msgID: randomUUID() });

  it('keeps events in the stream while the service is down and writes each, in order, when it is back', async () => {
    const a = randomUUID();
    const b = randomUUID();
    await bed.stopApp();
    const sent = Array.from({ length: 240 }, (_, i) => auditEvent(i % 3 === 0 ? b : a));
    for (const event of sent) await bed.publish(event);
    expect(await bed.count(a)).toBe(0);
    await bed.startApp();
    await bed.caughtUp();
    expect(await ids(a)).toEqual(sent.filter((e) => e.tenantId === a).map((e) => e.id));
    expect(await ids(b)).toEqual(sent.filter((e) => e.tenantId === b).map((e) => e.id));
    // a batch is one statement: its events share the time they were recorded
    const [{ batches }] = await bed.ownerDb.query(
      `SELECT count(DISTINCT recorded_at)::int AS batches FROM audit.events WHERE tenant_id = $1`,
      [a],
    );
    expect(batches).toBeLessThan(160 / 10);
    expect((await verify(a)).valid).toBe(true);
    expect((await verify(b)).valid).toBe(true);
  });

  it('writes an event once, whether JetStream or the service sees the duplicate', async () => {
    const tenantId = randomUUID();
    const event = auditEvent(tenantId);
    await bed.publish(event);
    await bed.publish(event);
    await bed.publish(event, `resent-${randomUUID()}`);
    await bed.publish(auditEvent(tenantId));
    await bed.publish(event, `resent-${randomUUID()}`);
    await bed.caughtUp();
    const stored = await ids(tenantId);
    expect(stored.filter((id) => id === event.id)).toHaveLength(1);
    expect(stored).toHaveLength(2);
    // a duplicate takes no sequence number: the chain has no hole
    expect(await verify(tenantId)).toMatchObject({ valid: true, headSeq: 2 });
  });

  it('takes ids in upper case as the same ids, so a duplicate is still written once and the chain verifies', async () => {
    const tenantId = randomUUID();
    const event = auditEvent(tenantId);
    const shouted = { ...event, id: event.id.toUpperCase(), tenantId: tenantId.toUpperCase() };
    await bed.publish(shouted, `shouted-${randomUUID()}`);
    await bed.publish(event, `quiet-${randomUUID()}`);
    await bed.publish(auditEvent(tenantId));
    await bed.caughtUp();
    const stored = await ids(tenantId);
    expect(stored).toHaveLength(2);
    expect(stored[0]).toBe(event.id);
    expect(await verify(tenantId)).toMatchObject({ valid: true, headSeq: 2 });
  });

  /** Counts the events an instance stores, as its ingest service reports them. */
  const tally = (app: INestApplication) => {
    const service = app.get(AuditIngestService);
    const ingest = service.ingest.bind(service);
    const count = { events: 0 };
    jest.spyOn(service, 'ingest').mockImplementation(async (batch) => {
      const stored = await ingest(batch);
      count.events += stored;
      return stored;
    });
    return count;
  };

  it('never forks a chain when two instances write the same tenant at once', async () => {
    const second = await createAuditApp(
      loadConfig(auditConfigSpec, { ...bed.env, AUDIT_BATCH_SIZE: '7' }),
      createLogger('audit-second', 'silent'),
    );
    try {
      const tenantId = randomUUID();
      const written = [tally(bed.app), tally(second)];
      const sent = Array.from({ length: 400 }, () => auditEvent(tenantId));
      await Promise.all(sent.map((e) => bed.publish(e)));
      await bed.caughtUp();
      expect(new Set(await ids(tenantId))).toEqual(new Set(sent.map((e) => e.id)));
      expect(await verify(tenantId)).toMatchObject({ valid: true, headSeq: 400 });
      // both instances wrote some of them, and between them each event once
      expect(written[0]!.events).toBeGreaterThan(0);
      expect(written[1]!.events).toBeGreaterThan(0);
      expect(written[0]!.events + written[1]!.events).toBe(400);
    } finally {
      jest.restoreAllMocks();
      await second.close();
    }
  });

  it('keeps every chain intact and in the order sent when many tenants’ batches are written at once', async () => {
    await bed.stopApp();
    const tenants = Array.from({ length: 6 }, () => randomUUID());
    const sent = Array.from({ length: 900 }, (_, i) => auditEvent(tenants[(i % 7) % 6]!));
    for (let i = 0; i < sent.length; i += 100) {
      await Promise.all(sent.slice(i, i + 100).map((e) => bed.publish(e)));
    }
    // small batches, several in flight: batches overtake nothing, tenants run side by side
    const app = await createAuditApp(
      loadConfig(auditConfigSpec, {
        ...bed.env,
        AUDIT_BATCH_SIZE: '20',
        AUDIT_BATCHES_IN_FLIGHT: '4',
      }),
      createLogger('audit-parallel', 'silent'),
    );
    const service = app.get(AuditIngestService);
    const ingest = service.ingest.bind(service);
    const inFlight = { now: 0, most: 0 };
    jest.spyOn(service, 'ingest').mockImplementation(async (batch) => {
      inFlight.most = Math.max(inFlight.most, ++inFlight.now);
      try {
        return await ingest(batch);
      } finally {
        inFlight.now--;
      }
    });
    try {
      await bed.caughtUp();
      // the premise: batches were in hand together
      expect(inFlight.most).toBeGreaterThan(1);
      for (const tenantId of tenants) {
        const own = sent.filter((e) => e.tenantId === tenantId);
        expect(await ids(tenantId)).toEqual(own.map((e) => e.id));
        expect(await verify(tenantId)).toMatchObject({ valid: true, headSeq: own.length });
        // batches are sealed side by side, yet along a chain the time recorded never goes back
        const recorded: { at: Date }[] = await bed.ownerDb.query(
          `SELECT recorded_at AS at FROM audit.events WHERE tenant_id = $1 ORDER BY seq`,
          [tenantId],
        );
        const times = recorded.map((r) => r.at.getTime());
        expect(times).toEqual([...times].sort((a, b) => a - b));
      }
    } finally {
      jest.restoreAllMocks();
      await app.close();
      await bed.startApp();
    }
  });

  it('terminates what breaks the contract and writes the valid events behind it', async () => {
    const tenantId = randomUUID();
    const codec = JSONCodec();
    const valid = auditEvent(tenantId);
    const base = JSON.parse(JSON.stringify(valid)) as Record<string, unknown>;
    for (const bad of [
      new TextEncoder().encode('{ not json'),
      codec.encode({ ...base, id: randomUUID(), userAgent: 'nul\u0000byte' }),
      codec.encode({ ...base, id: randomUUID(), userAgent: 'half \ud800 pair' }),
      codec.encode({ ...base, id: randomUUID(), action: 'NOT AN ACTION' }),
      codec.encode({ ...base, id: randomUUID(), outcome: 'maybe' }),
      codec.encode({ ...base, id: randomUUID(), tenantId: 'nope' }),
      codec.encode({ ...base, id: randomUUID(), metadata: { big: 'x'.repeat(9_000) } }),
      codec.encode({ ...base, id: randomUUID(), personal: ['absent'] }),
      codec.encode({ ...base, id: randomUUID(), extra: true }),
    ]) {
      await publishRaw(tenantId, bad);
    }
    await bed.publish(valid);
    await bed.caughtUp();
    expect(await ids(tenantId)).toEqual([valid.id]);
    const jsm = await bed.nats.jetstreamManager();
    const info = await jsm.consumers.info(
      bed.ns.stream(AuditEvents.stream.name),
      bed.ns.durable('audit-events'),
    );
    expect(info.num_pending).toBe(0);
  });

  it('keeps the content of every field exactly as sent, so the chain verifies after a round trip', async () => {
    const tenantId = randomUUID();
    const event = auditEvent(tenantId, {
      occurredAt: '2031-02-03T04:05:06.789+02:00',
      actor: { type: 'api-key', id: 'key-1', roles: ['developer', 'ops'] },
      resource: { type: 'Job', id: 'C:\\jobs\\new' },
      outcome: 'denied',
      // what COPY's text format reads as NULL or an escape, as plain text
      requestId: '\\N',
      userAgent: 'agent\\t"quoted"\\',
      traceId: 'ab'.repeat(16),
      metadata: {
        unicode: 'zoë ✓ 𝄞',
        numbers: [0, -1.5, 1e21, 0.1 + 0.2],
        nested: { z: null, a: { b: [true, false] } },
        text: 'two\nlines\tand a tab\r\n\\.',
        'key\\with\\backslashes': '\\N',
      },
    });
    await bed.publish(event);
    await eventually(async () => expect(await ids(tenantId)).toEqual([event.id]));
    expect((await verify(tenantId)).valid).toBe(true);
    const [row] = await bed.ownerDb.query(
      `SELECT occurred_at, metadata, resource_id, request_id, user_agent
         FROM audit.events WHERE tenant_id = $1`,
      [tenantId],
    );
    expect((row.occurred_at as Date).toISOString()).toBe('2031-02-03T02:05:06.789Z');
    expect(row.metadata).toEqual(event.metadata);
    expect(row).toMatchObject({
      resource_id: event.resource.id,
      request_id: event.requestId,
      user_agent: event.userAgent,
    });
  });
});
