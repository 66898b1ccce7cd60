import { randomBytes, randomUUID } from 'node:crypto';
import { ErrorCode, PLATFORM_ADMIN_ROLE } from '@lattice/contracts';
import { CursorCodec, TenantScope } from '@lattice/database';
import type { RequestContext } from '@lattice/request-context';
import { EnvelopeCipher, KeyRing } from '@lattice/secrets';
import { Clock } from '@lattice/service-runtime';
import {
  ManualClock,
  createTestBed,
  failure,
  provide,
  strictMock,
  type StrictMock,
} from '@lattice/testing';
import { EntityManager } from 'typeorm';
import { SubjectCipher, isSealed } from '../privacy/subject-cipher';
import { SubjectKeyRepository } from '../privacy/subject-keys.repository';
import { ConsentRepository } from './consent.repository';
import { ConsentService } from './consent.service';

const NOW = new Date('2026-04-01T10:00:00Z');
const cipher = new SubjectCipher(
  new EnvelopeCipher(KeyRing.parse(KeyRing.generateSpec('audit'))),
  randomBytes(32),
);

describe(ConsentService.name, () => {
  const tenantId = randomUUID();
  let sut: ConsentService;
  let keys: StrictMock<SubjectKeyRepository>;
  let em: StrictMock<EntityManager>;
  /** Each subject's key, by key id; a subject erased is one whose key is gone. */
  let keyring: Map<string, { subjectId: string; key: Buffer }>;
  /** The rows the service wrote, as the database keeps them. */
  let rows: Record<string, unknown>[];

  const user = (id: string, role = 'developer'): RequestContext => ({
    tenantId,
    actor: { type: 'user', id, roles: [role] },
    requestId: randomUUID(),
  });
  const keyOf = (subjectId: string) =>
    [...keyring.entries()].find(([, k]) => k.subjectId === subjectId)?.[0];
  const erase = (subjectId: string) => keyring.delete(keyOf(subjectId)!);

  beforeEach(() => {
    keyring = new Map();
    rows = [];
    const bed = createTestBed(ConsentService, [
      provide(SubjectCipher, cipher),
      // the statements themselves, run over the EntityManager below
      provide(ConsentRepository, new ConsentRepository()),
      provide(CursorCodec, new CursorCodec(randomBytes(32))),
      provide(Clock, new ManualClock(NOW)),
    ]);
    sut = bed.sut;
    em = strictMock(EntityManager);
    bed.mocks.get(TenantScope).run.mockImplementation((_id, work) => work(em));
    keys = bed.mocks.get(SubjectKeyRepository);
    keys.resolve.mockImplementation(async (_em, _tenant, subjectIds) => {
      const resolved = new Map<string, { keyId: string; key: Buffer }>();
      for (const subjectId of subjectIds) {
        const keyId = keyOf(subjectId) ?? randomUUID();
        if (!keyring.has(keyId)) keyring.set(keyId, { subjectId, key: cipher.newKey() });
        resolved.set(subjectId, { keyId, key: keyring.get(keyId)!.key });
      }
      return resolved;
    });
    keys.load.mockImplementation(async (_em, _tenant, keyIds) => {
      const loaded = new Map<string, Buffer>();
      for (const keyId of keyIds) {
        const k = keyring.get(keyId);
        if (k) loaded.set(keyId, k.key);
      }
      return loaded;
    });
    keys.find.mockImplementation(async (_em, _tenant, subjectId) => {
      const keyId = keyOf(subjectId);
      return keyId ? { keyId, key: keyring.get(keyId)!.key } : null;
    });
    // the INSERT ... RETURNING * and the SELECT by subject key, over the rows kept here
    em.query.mockImplementation(async (sql: string, params: unknown[] = []) => {
      if (sql.trimStart().startsWith('INSERT')) {
        const columns = [
          'tenant_id',
          'id',
          'subject_key',
          'subject_id',
          'purpose',
          'policy_version',
          'granted',
          'recorded_at',
          'recorded_by_type',
          'recorded_by_key',
          'recorded_by_id',
        ];
        const row = Object.fromEntries(columns.map((c, i) => [c, params[i]]));
        rows.push(row);
        return [row];
      }
      return rows.filter((r) => r.subject_key === params[1]);
    });
  });

  const consent = { purpose: 'marketing.email', policyVersion: '2026-01', granted: true };

  it("records a user's own consent, sealed under their key, and answers it in the clear", async () => {
    const alice = randomUUID();

    const view = await sut.record(user(alice), { ...consent, subjectId: alice });

    expect(view).toMatchObject({
      subjectId: alice,
      granted: true,
      recordedAt: NOW.toISOString(),
      recordedBy: { type: 'user', id: alice },
    });
    expect(isSealed(rows[0]!.subject_id as string)).toBe(true);
    expect(isSealed(rows[0]!.recorded_by_id as string)).toBe(true);
  });

  it('refuses a user recording consent on behalf of another user', async () => {
    const error = await failure(
      sut.record(user(randomUUID()), { ...consent, subjectId: randomUUID() }),
    );

    expect(error.code).toBe(ErrorCode.Forbidden);
    expect(rows).toEqual([]);
  });

  it('keeps a service that records consent in the clear: it is no data subject', async () => {
    const alice = randomUUID();
    const service: RequestContext = {
      tenantId: null,
      actor: { type: 'service', id: 'signup', roles: [PLATFORM_ADMIN_ROLE] },
      requestId: randomUUID(),
    };

    const view = await sut.record(service, { ...consent, subjectId: alice, tenantId });

    expect(view.recordedBy).toEqual({ type: 'service', id: 'signup' });
    expect(rows[0]).toMatchObject({ recorded_by_key: null, recorded_by_id: 'signup' });
  });

  it("lists a subject's grants and withdrawals; after erasure, no one can tell whose they were", async () => {
    const alice = randomUUID();
    await sut.record(user(alice), { ...consent, subjectId: alice });
    await sut.record(user(alice), { ...consent, subjectId: alice, granted: false });

    const before = await sut.list(user(alice), { subjectId: alice, limit: 10 });
    expect(before.items.map((c) => [c.subjectId, c.granted])).toEqual([
      [alice, true],
      [alice, false],
    ]);

    const forgotten = [...rows];
    erase(alice);
    expect(await sut.list(user(alice), { subjectId: alice, limit: 10 })).toEqual({
      items: [],
      nextCursor: null,
    });
    const keyId = forgotten[0]!.subject_key as string;
    const opened = await sut.forSubject(em, tenantId, keyId);
    expect(opened.map((c) => c.subjectId)).toEqual([null, null]);
  });
});
