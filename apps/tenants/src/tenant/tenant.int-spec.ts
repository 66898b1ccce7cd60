import { randomUUID } from 'node:crypto';
import { JSONCodec, type Subscription } from 'nats';
import {
  ErrorCode,
  TenantsCreate,
  TenantsDelete,
  TenantsGet,
  TenantsGetBySlug,
  TenantsList,
  TenantsReactivate,
  TenantsSuspend,
  TenantsUpdate,
  TenantLifecycle,
  type TenantChanged,
} from '@lattice/contracts';
import { eventually, failure } from '@lattice/testing';
import {
  platformAdmin,
  startTenantsTestBed,
  tenantMember,
  type TenantsTestBed,
} from '../../test/tenants.test-bed';
import { TenantOutbox } from '../events/tenant-outbox';
import { TenantService } from './tenant.service';

describe(TenantService.name, () => {
  let bed: TenantsTestBed;
  const slug = () => `acme-${randomUUID().slice(0, 8)}`;
  const create = (over: Record<string, unknown> = {}) =>
    bed.rpc.request(TenantsCreate, { slug: slug(), name: 'Acme', ...over }, platformAdmin());

  beforeAll(async () => {
    bed = await startTenantsTestBed();
  });
  afterAll(() => bed.close());

  it('creates a tenant on the starter plan by default and reads it back by id and slug', async () => {
    const created = await create();
    expect(created).toMatchObject({ plan: 'starter', status: 'active', version: 1 });
    expect(created.quotas.requestsPerMinute).toBe(60);
    await expect(bed.rpc.request(TenantsGet, { id: created.id }, platformAdmin())).resolves.toEqual(
      created,
    );
    await expect(
      bed.rpc.request(TenantsGetBySlug, { slug: created.slug }, platformAdmin()),
    ).resolves.toEqual(created);
  });

  it('creates a tenant on the free plan with its modest quotas and smallest fair-share weight', async () => {
    const created = await create({ plan: 'free' });
    expect(created.plan).toBe('free');
    expect(created.quotas).toMatchObject({ concurrentJobs: 1, fairShareWeight: 5 });
    await expect(bed.rpc.request(TenantsGet, { id: created.id }, platformAdmin())).resolves.toEqual(
      created,
    );
  });

  it('refuses a slug that is taken', async () => {
    const first = await create();
    const error = await failure(create({ slug: first.slug }));
    expect(error.code).toBe(ErrorCode.Conflict);
  });

  it('refuses quota overrides outside the custom plan, and applies them on it', async () => {
    expect((await failure(create({ plan: 'starter', quotaOverrides: { users: 2 } }))).code).toBe(
      ErrorCode.ValidationFailed,
    );
    const custom = await create({ plan: 'custom', quotaOverrides: { users: 2 } });
    expect(custom.quotas.users).toBe(2);
  });

  it('answers malformed payloads with a validation error and writes nothing', async () => {
    const before = await bed.ownerDb.query('SELECT count(*)::int AS n FROM tenants.tenants');
    for (const bad of [
      { slug: 'x', name: 'A' },
      { slug: 'Has Spaces', name: 'A' },
      { slug: slug(), name: 7 },
      { slug: slug(), name: 'A', extra: 1 },
    ]) {
      const error = await failure(bed.rpc.request(TenantsCreate, bad as never, platformAdmin()));
      expect(error.code).toBe(ErrorCode.ValidationFailed);
      expect(error.details?.issues).toBeDefined();
    }
    const after = await bed.ownerDb.query('SELECT count(*)::int AS n FROM tenants.tenants');
    expect(after[0].n).toBe(before[0].n);
  });

  it('lets only platform administrators create tenants', async () => {
    const other = await create();
    const error = await failure(
      bed.rpc.request(
        TenantsCreate,
        { slug: slug(), name: 'X' },
        tenantMember(other.id, ['tenant-owner']),
      ),
    );
    expect(error.code).toBe(ErrorCode.Forbidden);
  });

  it("hides one tenant from another tenant's members, by id and by slug", async () => {
    const a = await create();
    const b = await create();
    expect(
      (await failure(bed.rpc.request(TenantsGet, { id: b.id }, tenantMember(a.id)))).code,
    ).toBe(ErrorCode.NotFound);
    expect(
      (await failure(bed.rpc.request(TenantsGetBySlug, { slug: b.slug }, tenantMember(a.id)))).code,
    ).toBe(ErrorCode.NotFound);
    await expect(
      bed.rpc.request(TenantsGet, { id: a.id }, tenantMember(a.id)),
    ).resolves.toMatchObject({ id: a.id });
    const listed = await bed.rpc.request(TenantsList, { limit: 100 }, tenantMember(a.id));
    expect(listed.items.map((t) => t.id)).toEqual([a.id]);
  });

  it('lets a tenant owner rename it but not change its plan', async () => {
    const t = await create();
    const renamed = await bed.rpc.request(
      TenantsUpdate,
      { id: t.id, changes: { name: 'Renamed' } },
      tenantMember(t.id, ['tenant-owner']),
    );
    expect(renamed).toMatchObject({ name: 'Renamed', version: 2 });
    const error = await failure(
      bed.rpc.request(
        TenantsUpdate,
        { id: t.id, changes: { plan: 'enterprise' } },
        tenantMember(t.id, ['tenant-owner']),
      ),
    );
    expect(error.code).toBe(ErrorCode.Forbidden);
    const viewerError = await failure(
      bed.rpc.request(
        TenantsUpdate,
        { id: t.id, changes: { name: 'No' } },
        tenantMember(t.id, ['viewer']),
      ),
    );
    expect(viewerError.code).toBe(ErrorCode.Forbidden);
  });

  it('clears quota overrides when a tenant leaves the custom plan', async () => {
    const t = await create({ plan: 'custom', quotaOverrides: { users: 2 } });
    const moved = await bed.rpc.request(
      TenantsUpdate,
      { id: t.id, changes: { plan: 'professional' } },
      platformAdmin(),
    );
    expect(moved.quotaOverrides).toEqual({});
    expect(moved.quotas.users).toBe(50);
  });

  it('suspends, reactivates, soft-deletes with a purge date, and refuses to update a deleted tenant', async () => {
    const t = await create();
    const suspended = await bed.rpc.request(TenantsSuspend, { id: t.id }, platformAdmin());
    expect(suspended).toMatchObject({ status: 'suspended' });
    expect(suspended.suspendedAt).not.toBeNull();
    // suspending again is a no-op, not an error, and does not bump the version
    await expect(
      bed.rpc.request(TenantsSuspend, { id: t.id }, platformAdmin()),
    ).resolves.toMatchObject({ version: suspended.version });
    await expect(
      bed.rpc.request(TenantsReactivate, { id: t.id }, platformAdmin()),
    ).resolves.toMatchObject({ status: 'active', suspendedAt: null });
    const deleted = await bed.rpc.request(TenantsDelete, { id: t.id }, platformAdmin());
    expect(deleted.status).toBe('deleted');
    expect(new Date(deleted.purgeAfter!).getTime() - new Date(deleted.deletedAt!).getTime()).toBe(
      30 * 86_400_000,
    );
    const error = await failure(
      bed.rpc.request(TenantsUpdate, { id: t.id, changes: { name: 'Zombie' } }, platformAdmin()),
    );
    expect(error.code).toBe(ErrorCode.InvalidState);
  });

  it('pages through tenants with opaque cursors bound to their filters', async () => {
    const plan = 'enterprise';
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await create({ plan }));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await bed.rpc.request(TenantsList, { plan, limit: 2, cursor }, platformAdmin());
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(expect.arrayContaining(made.map((t) => t.id)));
    expect(new Set(seen).size).toBe(seen.length);

    const first = await bed.rpc.request(TenantsList, { plan, limit: 2 }, platformAdmin());
    const reused = await failure(
      bed.rpc.request(
        TenantsList,
        { plan: 'starter', limit: 2, cursor: first.nextCursor! },
        platformAdmin(),
      ),
    );
    expect(reused.code).toBe(ErrorCode.ValidationFailed);
    const forged = await failure(
      bed.rpc.request(
        TenantsList,
        // a different last character, whatever the signature ended with
        { plan, limit: 2, cursor: first.nextCursor!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) },
        platformAdmin(),
      ),
    );
    expect(forged.code).toBe(ErrorCode.ValidationFailed);
  });

  it('publishes an event for every change, after it is committed', async () => {
    const codec = JSONCodec<TenantChanged>();
    const events: TenantChanged[] = [];
    const sub: Subscription = bed.nats.subscribe(bed.ns.subject(TenantLifecycle.filter), {
      callback: (_, msg) => events.push(codec.decode(msg.data)),
    });
    const outbox = bed.app.get(TenantOutbox);
    /** Whatever is committed in the outbox now has been published and has reached us. */
    const relayed = async () => {
      // the second pass starts after whatever pass was under way when we asked
      await outbox.kick();
      await outbox.kick();
      await bed.nats.flush();
    };
    const seen = (id: string) =>
      events.filter((e) => e.tenantId === id).map((e) => [e.type, e.version]);
    let commit = () => {};
    try {
      const t = await create();
      // the rename holds its transaction open after writing its event: nothing may leave yet
      let written!: () => void;
      const inTransaction = new Promise<void>((resolve) => (written = resolve));
      const committable = new Promise<void>((resolve) => (commit = resolve));
      const record = outbox.record.bind(outbox);
      jest.spyOn(outbox, 'record').mockImplementation(async (em, type, tenant, at) => {
        await record(em, type, tenant, at);
        if (type === 'updated') {
          written();
          await committable;
        }
      });
      const renaming = bed.rpc.request(
        TenantsUpdate,
        { id: t.id, changes: { name: 'Changed' } },
        platformAdmin(),
      );
      await inTransaction;
      await relayed();
      expect(seen(t.id)).toEqual([['created', 1]]);
      commit();
      await renaming;
      jest.restoreAllMocks();

      await bed.rpc.request(TenantsSuspend, { id: t.id }, platformAdmin());
      await eventually(() =>
        expect(events.filter((e) => e.tenantId === t.id).map((e) => [e.type, e.version])).toEqual([
          ['created', 1],
          ['updated', 2],
          ['suspended', 3],
        ]),
      );
      // a refused change publishes nothing: the next event to arrive is the next change's
      await failure(
        bed.rpc.request(
          TenantsUpdate,
          { id: t.id, changes: { quotaOverrides: { users: 1 } } },
          platformAdmin(),
        ),
      );
      await relayed();
      await bed.rpc.request(TenantsReactivate, { id: t.id }, platformAdmin());
      await eventually(() => expect(seen(t.id).length).toBeGreaterThanOrEqual(4));
      expect(seen(t.id)).toEqual([
        ['created', 1],
        ['updated', 2],
        ['suspended', 3],
        ['reactivated', 4],
      ]);
      const { n } = (await bed.ownerDb.query('SELECT count(*)::int AS n FROM tenants.outbox'))[0];
      expect(n).toBe(0);
    } finally {
      commit();
      jest.restoreAllMocks();
      sub.unsubscribe();
    }
  });

  it('refuses a call whose request context is not signed by the platform', async () => {
    const { RpcClient } = await import('@lattice/messaging');
    const { ContextSigner, newContextKeySet, parseContextPrivateKey, parseContextPublicKeys } =
      await import('@lattice/request-context');
    // a key pair of its own, calling itself the gateway
    const keys = newContextKeySet(['gateway']);
    const forger = new RpcClient(
      bed.nats,
      new ContextSigner({
        identity: 'gateway',
        signingKey: parseContextPrivateKey(keys.privateKeys.gateway!, 'gateway'),
        trusted: parseContextPublicKeys(keys.publicKeys),
      }),
      bed.ns,
    );
    const error = await failure(forger.request(TenantsList, { limit: 1 }, platformAdmin()));
    expect(error.code).toBe(ErrorCode.Unauthenticated);
    expect(error.details).toEqual({ reason: 'bad-signature' });
  });
});
