import { randomUUID } from 'node:crypto';
import {
  AuditConsentsList,
  AuditConsentsRecord,
  AuditGdprAccess,
  AuditGdprErase,
  AuditQuery,
  AuditVerify,
  ErrorCode,
  GdprErase,
  GdprSubjectAccess,
  type AuditEvent,
} from '@lattice/contracts';
import type { RequestContext } from '@lattice/request-context';
import { failure, respond } from '@lattice/testing';
import {
  auditEvent,
  platformAdmin,
  startAuditTestBed,
  tenantMember,
  type AuditTestBed,
} from '../../test/audit.test-bed';
import { GdprTestResponder } from '../../test/gdpr-test-responder';
import { GdprService } from './gdpr.service';

jest.setTimeout(60_000);

const EMAIL = 'alice.liddell@example.com';
const IP = '198.51.100.23';
const BROWSER = 'AliceBrowser/7.1';

describe(GdprService.name, () => {
  let bed: AuditTestBed;
  let responder: GdprTestResponder;
  const tenantId = randomUUID();
  const alice = randomUUID();
  const bob = randomUUID();
  let events: AuditEvent[];
  const asAlice: RequestContext = {
    tenantId,
    actor: { type: 'user', id: alice, roles: ['developer'] },
    requestId: randomUUID(),
  };
  const admin = () => tenantMember(tenantId, ['tenant-admin']);

  /** Every row of every table in the database, as text, wherever the subject could hide. */
  const everyTableText = async (): Promise<string> => {
    const tables: { schema: string; name: string }[] = await bed.ownerDb.query(
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['events', 'subject_keys', 'consents', 'checkpoints']),
    );
    let text = '';
    for (const t of tables) {
      const rows: { row: string }[] = await bed.ownerDb.query(
        `SELECT t::text AS row FROM "${t.schema}"."${t.name}" t`,
      );
      text += rows.map((r) => r.row).join('\n');
    }
    return text;
  };

  beforeAll(async () => {
    bed = await startAuditTestBed();
    responder = new GdprTestResponder(bed.nats, bed.ns).start();
    responder.users.set(alice, { email: EMAIL, name: 'Alice Liddell' });
    responder.users.set(bob, { email: 'bob@example.com', name: 'Bob' });
    const actorAlice = { type: 'user' as const, id: alice, roles: ['developer'] };
    events = [
      auditEvent(tenantId, {
        actor: actorAlice,
        action: 'auth.login',
        sourceIp: IP,
        userAgent: BROWSER,
      }),
      auditEvent(tenantId, {
        actor: { type: 'user', id: bob, roles: ['tenant-admin'] },
        action: 'users.create',
        resource: { type: 'User' },
        subjectId: alice,
        metadata: { email: EMAIL, plan: 'starter' },
        personal: ['email'],
        sourceIp: '192.0.2.1',
      }),
      auditEvent(tenantId, { actor: actorAlice, action: 'jobs.create', sourceIp: IP }),
      auditEvent(tenantId, { actor: { type: 'user', id: bob, roles: [] }, action: 'jobs.create' }),
    ];
    for (const e of events) await bed.publish(e);
    await bed.caughtUp();
    await bed.rpc.request(
      AuditConsentsRecord,
      { subjectId: alice, purpose: 'marketing.email', policyVersion: '2031-01', granted: true },
      asAlice,
    );
  });
  afterAll(async () => {
    responder?.stop();
    await bed?.close();
  });

  it('records consents append-only and lists them for the subject and their admins', async () => {
    await bed.rpc.request(
      AuditConsentsRecord,
      { subjectId: alice, purpose: 'marketing.email', policyVersion: '2031-02', granted: false },
      asAlice,
    );
    const page = await bed.rpc.request(AuditConsentsList, { subjectId: alice }, admin());
    expect(page.items.map((c) => [c.policyVersion, c.granted, c.subjectId])).toEqual([
      ['2031-01', true, alice],
      ['2031-02', false, alice],
    ]);
    expect(page.items[0]!.recordedBy).toEqual({ type: 'user', id: alice });
    // another user of the tenant may neither read nor record alice's consents
    const mallory: RequestContext = { ...asAlice, actor: { ...asAlice.actor, id: 'mallory' } };
    for (const call of [
      () => bed.rpc.request(AuditConsentsList, { subjectId: alice }, mallory),
      () =>
        bed.rpc.request(
          AuditConsentsRecord,
          { subjectId: alice, purpose: 'marketing.email', policyVersion: '1', granted: false },
          mallory,
        ),
    ]) {
      expect((await failure(call())).code).toBe(ErrorCode.Forbidden);
    }
  });

  it('gathers everything every service holds about a subject into one document', async () => {
    const doc = await bed.rpc.request(AuditGdprAccess, { subjectId: alice }, asAlice);
    expect(doc).toMatchObject({ tenantId, subjectId: alice });
    expect(doc.services.auth).toEqual({ user: { email: EMAIL, name: 'Alice Liddell' } });
    const audit = doc.services.audit as {
      events: { id: string; metadata: Record<string, unknown>; sourceIp: string | null }[];
      consents: unknown[];
    };
    expect(audit.events.map((e) => e.id)).toEqual([events[0]!.id, events[1]!.id, events[2]!.id]);
    expect(audit.events[1]!.metadata.email).toBe(EMAIL);
    expect(audit.events[0]!.sourceIp).toBe(IP);
    expect(audit.consents).toHaveLength(2);
    // bob's own event is not part of alice's document
    expect(JSON.stringify(doc)).not.toContain(events[3]!.id);
  });

  it('erases a subject everywhere, leaving a chain that verifies and events that still count', async () => {
    // at rest nothing of alice is in clear text even before: it is all sealed under her key
    expect(await everyTableText()).not.toContain(EMAIL);
    const aliceKeys = async () =>
      (
        await bed.ownerDb.query(
          `SELECT count(*)::int AS n FROM audit.subject_keys k
            WHERE k.wrapped_key IS NOT NULL
              AND k.key_id IN (SELECT actor_key FROM audit.events WHERE id = $1)`,
          [events[0]!.id],
        )
      )[0].n as number;
    expect(await aliceKeys()).toBe(1);

    const report = await bed.rpc.request(AuditGdprErase, { subjectId: alice }, admin());
    expect(Object.fromEntries(report.services.map((s) => [s.service, s.erased]))).toEqual({
      audit: 3,
      auth: 1,
    });
    expect(responder.users.has(alice)).toBe(false);

    // an event about alice that was still on its way when she was erased
    const late = auditEvent(tenantId, {
      actor: { type: 'user', id: alice, roles: [] },
      action: 'auth.logout',
      sourceIp: IP,
      userAgent: BROWSER,
    });
    await bed.publish(late);
    await bed.caughtUp();

    expect(await bed.count(tenantId)).toBe(events.length + 1);
    expect(await bed.rpc.request(AuditVerify, { tenantId }, platformAdmin())).toMatchObject({
      valid: true,
      headSeq: 5,
    });

    const page = await bed.rpc.request(AuditQuery, {}, admin());
    const byId = new Map(page.items.map((e) => [e.id, e]));
    for (const id of [events[0]!.id, events[2]!.id, late.id]) {
      expect(byId.get(id)).toMatchObject({ actor: { type: 'user', id: null }, sourceIp: null });
    }
    expect(byId.get(events[0]!.id)!.erased).toEqual(['actor.id', 'sourceIp', 'userAgent']);
    expect(byId.get(events[1]!.id)).toMatchObject({
      actor: { id: bob },
      metadata: { email: null, plan: 'starter' },
      erased: ['metadata.email'],
    });
    expect(byId.get(events[3]!.id)!.actor.id).toBe(bob);

    const consents = await bed.rpc.request(AuditConsentsList, { subjectId: alice }, admin());
    expect(consents.items).toEqual([]);
    const doc = await bed.rpc.request(AuditGdprAccess, { subjectId: alice }, admin());
    expect(doc.services).toEqual({ audit: { events: [], consents: [] }, auth: { user: null } });

    // what a DBA could read: no email, IP, user agent or id of alice in any table
    expect(await aliceKeys()).toBe(0);
    const after = await everyTableText();
    for (const trace of [EMAIL, IP, BROWSER, alice, 'Alice']) expect(after).not.toContain(trace);
  });

  it('fails, naming the service, while one that holds personal data is silent or failing, and completes when asked again', async () => {
    const carol = randomUUID();
    await bed.publish(
      auditEvent(tenantId, { actor: { type: 'user', id: carol, roles: [] }, sourceIp: IP }),
    );
    await bed.caughtUp();
    responder.users.set(carol, { email: 'carol@example.com', name: 'Carol' });
    responder.stop();
    try {
      const silent = await failure(bed.rpc.request(AuditGdprErase, { subjectId: carol }, admin()));
      expect(silent.code).toBe(ErrorCode.Unavailable);
      expect(silent.message).toMatch(/erasure is incomplete: no successful reply from auth/);
      // the audit trail did its part; the report says so, and that auth's is missing
      expect(silent.details).toEqual({
        missing: ['auth'],
        failures: [],
        services: [{ service: 'audit', erased: 1 }],
      });
      const access = await failure(bed.rpc.request(AuditGdprAccess, { subjectId: carol }, admin()));
      expect(access.code).toBe(ErrorCode.Unavailable);
      expect(access.details).toMatchObject({ missing: ['auth'], services: ['audit'] });

      const failing = [GdprErase, GdprSubjectAccess].map((contract) =>
        respond(bed.nats, bed.ns, contract, 'auth', () => ({
          err: { code: ErrorCode.Internal, message: 'the users table is not reachable' },
        })),
      );
      const failed = await failure(bed.rpc.request(AuditGdprErase, { subjectId: carol }, admin()));
      for (const s of failing) s.unsubscribe();
      expect(failed.code).toBe(ErrorCode.Unavailable);
      expect(failed.details).toMatchObject({
        missing: ['auth'],
        failures: [{ code: ErrorCode.Internal, message: 'the users table is not reachable' }],
      });
    } finally {
      responder.start();
    }
    // erasure is idempotent: asking again finishes the job
    const report = await bed.rpc.request(AuditGdprErase, { subjectId: carol }, admin());
    expect(Object.fromEntries(report.services.map((s) => [s.service, s.erased]))).toEqual({
      audit: 0,
      auth: 1,
    });
    expect(responder.users.has(carol)).toBe(false);
  });
});
