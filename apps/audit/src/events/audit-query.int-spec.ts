import { randomUUID } from 'node:crypto';
import {
  AuditConsentsList,
  AuditConsentsRecord,
  AuditExportPage,
  AuditGdprAccess,
  AuditGdprErase,
  AuditQuery,
  AuditVerify,
  ErrorCode,
  GdprErase,
  GdprSubjectAccess,
  PLATFORM_TENANT_ID,
  type AuditEvent,
} from '@lattice/contracts';
import { TenantScope, runtimeRole } from '@lattice/database';
import { failure } from '@lattice/testing';
import {
  auditEvent,
  platformAdmin,
  startAuditTestBed,
  tenantMember,
  type AuditTestBed,
} from '../../test/audit.test-bed';
import { AuditQueryService } from './audit-query.service';

jest.setTimeout(60_000);

describe(AuditQueryService.name, () => {
  let bed: AuditTestBed;
  const a = randomUUID();
  const b = randomUUID();
  const alice = `user-${randomUUID()}`;
  let aEvents: AuditEvent[];
  let bEvents: AuditEvent[];

  beforeAll(async () => {
    bed = await startAuditTestBed();
    const at = (minute: number) => new Date(Date.UTC(2031, 4, 1, 12, minute)).toISOString();
    aEvents = [
      auditEvent(a, { occurredAt: at(0), action: 'tenants.update', outcome: 'success' }),
      auditEvent(a, {
        occurredAt: at(1),
        action: 'api-keys.create',
        actor: { type: 'user', id: alice, roles: ['developer'] },
        sourceIp: '203.0.113.7',
        userAgent: 'curl/8',
      }),
      auditEvent(a, { occurredAt: at(2), action: 'tenants.suspend', outcome: 'denied' }),
      auditEvent(a, {
        occurredAt: at(3),
        action: 'jobs.create',
        actor: { type: 'user', id: alice, roles: ['developer'] },
        resource: { type: 'Job', id: 'job-7' },
        outcome: 'error',
      }),
      auditEvent(a, { occurredAt: at(4), action: 'tenants.update' }),
    ];
    bEvents = [auditEvent(b), auditEvent(b, { action: 'tenants.update' })];
    for (const e of [...aEvents, ...bEvents]) {
      await bed.publish(e);
    }
    await bed.caughtUp();
  });
  afterAll(() => bed?.close());

  const reader = (tenantId: string) => tenantMember(tenantId, ['auditor']);
  const query = (q: Record<string, unknown>, ctx = reader(a)) =>
    bed.rpc.request(AuditQuery, q, ctx);

  it('returns a tenant’s events newest first, with personal fields opened for readers', async () => {
    const page = await query({});
    expect(page.items.map((e) => e.id)).toEqual([...aEvents].reverse().map((e) => e.id));
    const byAlice = page.items.find((e) => e.id === aEvents[1]!.id)!;
    expect(byAlice).toMatchObject({
      actor: { type: 'user', id: alice },
      sourceIp: '203.0.113.7',
      userAgent: 'curl/8',
      erased: [],
    });
    // while at rest, what identifies alice is sealed
    const [row] = await bed.ownerDb.query(
      `SELECT actor_id, actor_sealed, source_ip, user_agent FROM audit.events WHERE id = $1`,
      [byAlice.id],
    );
    expect(JSON.stringify(row)).not.toMatch(/203\.0\.113\.7|curl|user-/);
  });

  it('filters by actor, action or its prefix, resource, outcome and time range', async () => {
    const idsOf = async (q: Record<string, unknown>) =>
      (await query(q)).items.map((e) => e.id).reverse();
    const id = (i: number) => aEvents[i]!.id;
    expect(await idsOf({ actorId: alice })).toEqual([id(1), id(3)]);
    expect(await idsOf({ actorType: 'service' })).toEqual([id(0), id(2), id(4)]);
    expect(await idsOf({ action: 'tenants.update' })).toEqual([id(0), id(4)]);
    expect(await idsOf({ action: 'tenants.*' })).toEqual([id(0), id(2), id(4)]);
    expect(await idsOf({ resourceType: 'Job', resourceId: 'job-7' })).toEqual([id(3)]);
    expect(await idsOf({ outcome: 'denied' })).toEqual([id(2)]);
    expect(
      await idsOf({ from: '2031-05-01T12:01:00.000Z', to: '2031-05-01T12:03:00.000Z' }),
    ).toEqual([id(1), id(2)]);
    expect(await idsOf({ actorId: 'nobody' })).toEqual([]);
  });

  it('pages with a signed cursor that only its own query accepts', async () => {
    const first = await query({ limit: 2 });
    expect(first.items).toHaveLength(2);
    const second = await query({ limit: 2, cursor: first.nextCursor });
    const third = await query({ limit: 2, cursor: second.nextCursor });
    expect(third.nextCursor).toBeNull();
    expect([...first.items, ...second.items, ...third.items].map((e) => e.id)).toEqual(
      [...aEvents].reverse().map((e) => e.id),
    );
    for (const [q, ctx] of [
      [{ limit: 2, cursor: first.nextCursor, outcome: 'success' }, reader(a)],
      [{ limit: 2, cursor: first.nextCursor }, reader(b)],
      [{ limit: 2, cursor: `${first.nextCursor}x` }, reader(a)],
    ] as const) {
      expect((await failure(query(q, ctx))).code).toBe(ErrorCode.ValidationFailed);
    }
  });

  it('exports a time range oldest first, page after page', async () => {
    const range = { from: '2031-05-01T00:00:00Z', to: '2031-05-02T00:00:00Z', limit: 2 };
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await bed.rpc.request(AuditExportPage, { ...range, cursor }, reader(a));
      seen.push(...page.items.map((e) => e.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(aEvents.map((e) => e.id));
  });

  it('never shows a tenant another tenant’s events', async () => {
    const forbidden = await failure(query({ tenantId: b }));
    expect(forbidden.code).toBe(ErrorCode.Forbidden);
    const seenByB = (await query({}, reader(b))).items;
    expect(seenByB.every((e) => e.tenantId === b)).toBe(true);
    expect(seenByB.map((e) => e.id).sort()).toEqual(bEvents.map((e) => e.id).sort());
    expect((await failure(query({}, tenantMember(a, ['developer'])))).code).toBe(
      ErrorCode.Forbidden,
    );
    // a platform admin names the tenant; naming none reads the platform's own trail
    expect((await query({ tenantId: b }, platformAdmin())).items).toHaveLength(2);
    expect((await query({}, platformAdmin())).items).toEqual([]);
    expect(PLATFORM_TENANT_ID).toMatch(/^0{8}-/);
  });

  it('hides other tenants’ rows in the database itself, from queries that name no tenant', async () => {
    expect(await bed.runtimeDb.query(`SELECT * FROM audit.events`)).toEqual([]);
    const scope = new TenantScope(bed.runtimeDb);
    const rows: { tenant_id: string }[] = await scope.run(a, (em) =>
      em.query(`SELECT tenant_id FROM audit.events`),
    );
    expect(rows).toHaveLength(aEvents.length);
    expect(new Set(rows.map((r) => r.tenant_id))).toEqual(new Set([a]));
    const keys: unknown[] = await scope.run(b, (em) =>
      em.query(`SELECT * FROM audit.subject_keys`),
    );
    expect(keys).toEqual([]);
    const [me] = await bed.runtimeDb.query(
      `SELECT current_user AS name, rolbypassrls FROM pg_roles WHERE rolname = current_user`,
    );
    expect(me).toEqual({ name: runtimeRole('audit'), rolbypassrls: false });
  });

  it('answers bad input on every subject with a validation error and writes nothing', async () => {
    const counts = async () =>
      (
        await bed.ownerDb.query(
          `SELECT (SELECT count(*) FROM audit.events)::int AS events,
                  (SELECT count(*) FROM audit.consents)::int AS consents,
                  (SELECT count(*) FROM audit.subject_keys)::int AS keys`,
        )
      )[0];
    const before = await counts();
    const admin = platformAdmin();
    // payloads outside the contracts, as a buggy or hostile caller would send them
    const send = (contract: Parameters<typeof bed.rpc.request>[0], payload: unknown) =>
      bed.rpc.request(contract, payload as never, admin);
    const cases: [string, () => Promise<unknown>][] = [
      ['query limit', () => query({ limit: 1000 })],
      ['query from', () => query({ from: 'yesterday' })],
      ['query order', () => query({ from: '2031-05-02T00:00:00Z', to: '2031-05-01T00:00:00Z' })],
      ['query field', () => query({ sort: 'seq' })],
      ['query action', () => query({ action: 'DROP TABLE' })],
      ['export range', () => send(AuditExportPage, { from: '2031-05-01T00:00:00Z' })],
      ['verify tenant', () => send(AuditVerify, { tenantId: 42 })],
      [
        'consent purpose',
        () =>
          send(AuditConsentsRecord, {
            tenantId: a,
            subjectId: alice,
            purpose: 'Marketing!',
            policyVersion: '1',
            granted: true,
          }),
      ],
      [
        'consent granted',
        () =>
          send(AuditConsentsRecord, {
            tenantId: a,
            subjectId: alice,
            purpose: 'marketing',
            policyVersion: '1',
            granted: 'yes',
          }),
      ],
      ['consents list', () => send(AuditConsentsList, { tenantId: a })],
      ['access', () => send(AuditGdprAccess, { tenantId: a })],
      ['erase', () => send(AuditGdprErase, { tenantId: 'x', subjectId: alice })],
      ['own access', () => send(GdprSubjectAccess, { subjectId: alice })],
      ['own erase', () => send(GdprErase, { tenantId: a, subjectId: '' })],
    ];
    for (const [name, call] of cases) {
      expect({ name, code: (await failure(call())).code }).toEqual({
        name,
        code: ErrorCode.ValidationFailed,
      });
    }
    expect(await counts()).toEqual(before);
    // and the trail still reads alice as she was
    expect((await query({ actorId: alice })).items[0]!.actor.id).toBe(alice);
  });
});
