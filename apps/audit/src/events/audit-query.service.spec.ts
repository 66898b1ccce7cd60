import { randomBytes, randomUUID } from 'node:crypto';
import { ErrorCode, type AuditEventView } from '@lattice/contracts';
import { CursorCodec, TenantScope } from '@lattice/database';
import type { RequestContext } from '@lattice/request-context';
import { createTestBed, failure, provide, strictMock, type StrictMock } from '@lattice/testing';
import { EntityManager } from 'typeorm';
import type { StoredEvent } from '../chain/hash-chain';
import { EventSealer } from '../privacy/event-sealer';
import { SubjectKeyRepository } from '../privacy/subject-keys.repository';
import { AuditEventRepository } from './audit-event.repository';
import { AuditQueryService } from './audit-query.service';

const member = (tenantId: string, role: string): RequestContext => ({
  tenantId,
  actor: { type: 'user', id: randomUUID(), roles: [role] },
  requestId: randomUUID(),
});

/** Stored events with these sequence numbers, newest first as the repository returns them. */
const stored = (...seqs: number[]) =>
  seqs.map((seq) => ({ seq, actorKey: null, subjectKey: null }) as unknown as StoredEvent);

describe(AuditQueryService.name, () => {
  const tenantId = randomUUID();
  const auditor = member(tenantId, 'auditor');
  let sut: AuditQueryService;
  let events: StrictMock<AuditEventRepository>;
  let keys: StrictMock<SubjectKeyRepository>;
  let em: StrictMock<EntityManager>;

  beforeEach(() => {
    const bed = createTestBed(AuditQueryService, [
      provide(CursorCodec, new CursorCodec(randomBytes(32))),
    ]);
    sut = bed.sut;
    em = strictMock(EntityManager);
    bed.mocks.get(TenantScope).run.mockImplementation((_id, work) => work(em));
    events = bed.mocks.get(AuditEventRepository);
    keys = bed.mocks.get(SubjectKeyRepository);
    keys.load.mockResolvedValue(new Map());
    bed.mocks
      .get(EventSealer)
      .open.mockImplementation((row) => ({ seq: row.seq }) as unknown as AuditEventView);
  });

  it('refuses a caller without read:AuditEvent on the tenant, reading nothing', async () => {
    const error = await failure(sut.query(member(tenantId, 'developer'), { limit: 10 }));

    expect(error.code).toBe(ErrorCode.Forbidden);
    expect(events.page).not.toHaveBeenCalled();
  });

  it("refuses an auditor of one tenant another tenant's trail", async () => {
    const error = await failure(sut.query(auditor, { limit: 10, tenantId: randomUUID() }));

    expect(error.code).toBe(ErrorCode.Forbidden);
  });

  it('pages newest first, and the cursor of a page leads to the next', async () => {
    events.page.mockResolvedValueOnce(stored(9, 8, 7));

    const first = await sut.query(auditor, { limit: 2 });

    expect(first.items.map((e) => e.seq)).toEqual([9, 8]);
    expect(events.page).toHaveBeenLastCalledWith(em, tenantId, {}, 'newest', null, 3);
    expect(first.nextCursor).not.toBeNull();

    events.page.mockResolvedValueOnce(stored(7));
    const second = await sut.query(auditor, { limit: 2, cursor: first.nextCursor! });

    expect(events.page).toHaveBeenLastCalledWith(em, tenantId, {}, 'newest', 8, 3);
    expect(second.items.map((e) => e.seq)).toEqual([7]);
    expect(second.nextCursor).toBeNull();
  });

  it('refuses a cursor taken from a query with other filters', async () => {
    events.page.mockResolvedValueOnce(stored(9, 8, 7));
    const { nextCursor } = await sut.query(auditor, { limit: 2 });

    const error = await failure(
      sut.query(auditor, { limit: 2, cursor: nextCursor!, action: 'user.login' }),
    );

    expect(error.code).toBe(ErrorCode.ValidationFailed);
  });

  it("finds an actor's events by the key their id is sealed under", async () => {
    const actorId = randomUUID();
    keys.find.mockResolvedValue({ keyId: 'key-1' } as never);
    events.page.mockResolvedValue([]);

    await sut.query(auditor, { limit: 10, actorId });

    expect(events.page).toHaveBeenCalledWith(
      em,
      tenantId,
      { actorId, actorKeyId: 'key-1' },
      'newest',
      null,
      11,
    );
  });

  it('matches no sealed event for an actor without a key (erased, or never seen)', async () => {
    const actorId = randomUUID();
    keys.find.mockResolvedValue(null);
    events.page.mockResolvedValue([]);

    await sut.query(auditor, { limit: 10, actorId });

    expect(events.page).toHaveBeenCalledWith(
      em,
      tenantId,
      { actorId, actorKeyId: null },
      'newest',
      null,
      11,
    );
  });

  it('exports oldest first within the asked window', async () => {
    const from = '2026-01-01T00:00:00.000Z';
    const to = '2026-02-01T00:00:00.000Z';
    events.page.mockResolvedValue(stored(1, 2));

    const page = await sut.exportPage(auditor, { limit: 5, from, to });

    expect(page.items.map((e) => e.seq)).toEqual([1, 2]);
    expect(events.page).toHaveBeenCalledWith(em, tenantId, { from, to }, 'oldest', null, 6);
  });
});
