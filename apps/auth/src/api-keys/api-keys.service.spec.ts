import { randomUUID } from 'node:crypto';
import { AuthApiKeyRevoked, ErrorCode, PLATFORM_TENANT_ID } from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { AuditRecorder, EventBus } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { Clock } from '@lattice/service-runtime';
import {
  ManualClock,
  createTestBed,
  failure,
  provide,
  scopedTransactions,
  strictMock,
  type RecordingScope,
  type StrictMock,
} from '@lattice/testing';
import type { EntityManager } from 'typeorm';
import { roleCatalog, userContext } from '../../test/auth-unit.fixtures';
import { TenantDirectory } from '../access/tenant-directory';
import { RoleBindingRepository } from '../roles/role-binding.repository';
import { RoleCatalog } from '../roles/role-catalog';
import { ServiceAccountRepository } from '../service-accounts/service-account.repository';
import { UserRepository } from '../users/user.repository';
import { newApiKey, parseApiKey } from './api-key-format';
import { ApiKeyRepository, type ApiKeyRow } from './api-key.repository';
import { ApiKeysService } from './api-keys.service';
import { hashSecret } from '../sessions/refresh-token';

const NOW = new Date('2026-06-01T08:00:00Z');

describe(ApiKeysService.name, () => {
  const tenantId = randomUUID();
  let sut: ApiKeysService;
  let em: EntityManager;
  let scope: RecordingScope;
  let clock: ManualClock;
  let keys: StrictMock<ApiKeyRepository>;
  let users: StrictMock<UserRepository>;
  let accounts: StrictMock<ServiceAccountRepository>;
  let tenants: StrictMock<TenantDirectory>;
  let audit: StrictMock<AuditRecorder>;
  let events: StrictMock<EventBus>;
  /** The roles of each user and service account; users not in `enabled` are disabled. */
  let held: Map<string, string[]>;
  let enabled: Set<string>;
  let serviceAccounts: Set<string>;
  /** The keys stored, by id. */
  let stored: Map<string, ApiKeyRow>;

  const user = (...roles: string[]): RequestContext => {
    const id = randomUUID();
    held.set(id, roles);
    enabled.add(id);
    return userContext(tenantId, roles, id);
  };
  const serviceAccount = (...roles: string[]) => {
    const id = randomUUID();
    held.set(id, roles);
    serviceAccounts.add(id);
    return id;
  };
  /** A key in the store, and the whole key text that its holder presents. */
  const key = (changes: Partial<ApiKeyRow> = {}): { row: ApiKeyRow; text: string } => {
    const generated = newApiKey();
    const row: ApiKeyRow = {
      tenant_id: tenantId,
      id: randomUUID(),
      prefix: generated.prefix,
      secret_hash: hashSecret(generated.secret),
      name: 'ci',
      owner_type: 'user',
      owner_id: randomUUID(),
      permissions: ['read:Job:tenant'],
      expires_at: null,
      last_used_at: null,
      revoked_at: null,
      created_at: new Date('2026-05-01T00:00:00Z'),
      ...changes,
    };
    stored.set(row.id, row);
    return { row, text: generated.key };
  };

  beforeEach(() => {
    held = new Map();
    enabled = new Set();
    serviceAccounts = new Set();
    stored = new Map();
    ({ em, scope } = scopedTransactions());
    clock = new ManualClock(NOW);
    const bindings = strictMock(RoleBindingRepository);
    bindings.rolesOf.mockImplementation(async (_em, id) => held.get(id) ?? []);
    const bed = createTestBed(ApiKeysService, [
      provide(TenantScope, scope),
      provide(RoleCatalog, roleCatalog(bindings, [])),
      provide(Clock, clock),
    ]);
    sut = bed.sut;
    keys = bed.mocks.get(ApiKeyRepository);
    keys.insert.mockImplementation(async (_em, k) => {
      const row: ApiKeyRow = {
        tenant_id: k.tenantId,
        id: randomUUID(),
        prefix: k.prefix,
        secret_hash: k.secretHash,
        name: k.name,
        owner_type: k.ownerType,
        owner_id: k.ownerId,
        permissions: k.permissions,
        expires_at: k.expiresAt ? new Date(k.expiresAt) : null,
        last_used_at: null,
        revoked_at: null,
        created_at: clock.now(),
      };
      stored.set(row.id, row);
      return row;
    });
    keys.byPrefix.mockImplementation(async (_em, prefix) =>
      [...stored.values()].find((r) => r.prefix === prefix),
    );
    keys.lockById.mockImplementation(async (_em, tenant, id) =>
      stored.get(id)?.tenant_id === tenant ? stored.get(id) : undefined,
    );
    keys.revoke.mockImplementation(async (_em, id, at) => {
      const row = { ...stored.get(id)!, revoked_at: at };
      stored.set(id, row);
      return row;
    });
    keys.touch.mockResolvedValue();
    keys.listOfTenant.mockImplementation(async (_em, tenant) =>
      [...stored.values()].filter((r) => r.tenant_id === tenant),
    );
    users = bed.mocks.get(UserRepository);
    users.isEnabled.mockImplementation(async (_em, id) => enabled.has(id));
    accounts = bed.mocks.get(ServiceAccountRepository);
    accounts.exists.mockImplementation(async (_em, id) => serviceAccounts.has(id));
    tenants = bed.mocks.get(TenantDirectory);
    tenants.isActive.mockResolvedValue(true);
    audit = bed.mocks.get(AuditRecorder);
    audit.record.mockReturnValue(randomUUID());
    events = bed.mocks.get(EventBus);
    events.publish.mockReturnValue();
  });

  describe('create', () => {
    it("makes a key for the caller that carries the caller's permissions and verifies", async () => {
      const developer = user('developer');

      const { key: text, apiKey } = await sut.create(developer, { name: 'laptop' });

      expect(parseApiKey(text)?.prefix).toBe(apiKey.prefix);
      expect(apiKey).toMatchObject({
        tenantId,
        ownerType: 'user',
        ownerId: developer.actor.id,
        revokedAt: null,
        expiresAt: null,
      });
      expect(apiKey.permissions).toEqual(
        [
          'manage:ApiKey:own',
          'manage:Collection:tenant',
          'manage:Document:tenant',
          'manage:GpuLease:tenant',
          'manage:Job:own',
          'read:Job:tenant',
          'read:Tenant:tenant',
          'read:Usage:tenant',
          'read:User:tenant',
        ].sort(),
      );
      await expect(sut.verify(text)).resolves.toMatchObject({
        keyId: apiKey.id,
        ownerId: developer.actor.id,
        permissions: apiKey.permissions,
      });
    });

    it('keeps no more of the key than its prefix and a hash of its secret', async () => {
      const { key: text } = await sut.create(user('developer'), { name: 'laptop' });

      const parts = parseApiKey(text)!;
      const inserted = keys.insert.mock.calls[0]![1];
      expect(inserted.prefix).toBe(parts.prefix);
      expect(inserted.secretHash).toEqual(hashSecret(parts.secret));
      expect(JSON.stringify(inserted)).not.toContain(parts.secret);
    });

    it("audits the creation under the owner's id, as personal data", async () => {
      const developer = user('developer');

      const { apiKey } = await sut.create(developer, {
        name: 'ci',
        permissions: ['read:Job:tenant'],
      });

      expect(audit.record).toHaveBeenCalledWith(
        expect.objectContaining({
          tenantId,
          action: 'api-key.create',
          outcome: 'success',
          resource: { type: 'ApiKey', id: apiKey.id },
          metadata: { ownerId: developer.actor.id, permissions: ['read:Job:tenant'] },
          subjectId: developer.actor.id,
          personal: ['ownerId'],
        }),
      );
    });

    it('refuses permissions the owner does not hold', async () => {
      const error = await failure(
        sut.create(user('developer'), { name: 'ci', permissions: ['manage:User:tenant'] }),
      );

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(error.details).toEqual({ permissions: ['manage:User:tenant'] });
      expect(keys.insert).not.toHaveBeenCalled();
      expect(audit.record).not.toHaveBeenCalled();
    });

    it("makes a service account's key within what the service account holds", async () => {
      const account = serviceAccount('service-account');

      const { apiKey } = await sut.create(user('tenant-admin'), {
        name: 'worker',
        serviceAccountId: account,
        permissions: ['create:Job:tenant'],
      });

      expect(apiKey).toMatchObject({
        ownerType: 'service-account',
        ownerId: account,
        permissions: ['create:Job:tenant'],
      });
    });

    it('refuses a key for a service account that reaches beyond the caller', async () => {
      const account = serviceAccount('tenant-owner');

      const error = await failure(
        sut.create(user('tenant-admin'), { name: 'worker', serviceAccountId: account }),
      );

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(keys.insert).not.toHaveBeenCalled();
    });

    it('refuses a caller who may make only its own keys a key for a service account', async () => {
      const account = serviceAccount('service-account');

      const error = await failure(
        sut.create(user('developer'), { name: 'worker', serviceAccountId: account }),
      );

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(keys.insert).not.toHaveBeenCalled();
    });

    it('says NotFound for a service account the tenant does not have', async () => {
      const error = await failure(
        sut.create(user('tenant-admin'), { name: 'worker', serviceAccountId: randomUUID() }),
      );

      expect(error.code).toBe(ErrorCode.NotFound);
    });

    it('refuses an expiry that is not in the future', async () => {
      const error = await failure(
        sut.create(user('developer'), { name: 'ci', expiresAt: NOW.toISOString() }),
      );

      expect(error.code).toBe(ErrorCode.ValidationFailed);
      expect(keys.insert).not.toHaveBeenCalled();
    });

    it('refuses to let an API key make an API key for itself', async () => {
      const ctx: RequestContext = {
        tenantId,
        actor: { type: 'api-key', id: randomUUID(), roles: ['developer'] },
        requestId: randomUUID(),
      };

      expect((await failure(sut.create(ctx, { name: 'copy' }))).code).toBe(ErrorCode.Forbidden);
    });
  });

  describe('list', () => {
    it('shows a caller who may read only its own keys just those', async () => {
      const developer = user('developer');
      const own = key({ owner_id: developer.actor.id });
      key();

      const listed = await sut.list(developer);

      expect(listed.map((k) => k.id)).toEqual([own.row.id]);
    });

    it("shows an administrator every key of the tenant, not another tenant's", async () => {
      const mine = [key(), key()];
      key({ tenant_id: randomUUID() });

      const listed = await sut.list(user('tenant-admin'));

      expect(listed.map((k) => k.id).sort()).toEqual(mine.map((k) => k.row.id).sort());
    });
  });

  describe('revoke', () => {
    it('revokes the key now, tells the gateways and audits it', async () => {
      const developer = user('developer');
      const { row } = key({ owner_id: developer.actor.id });

      const view = await sut.revoke(developer, row.id);

      expect(view.revokedAt).toBe(NOW.toISOString());
      expect(events.publish).toHaveBeenCalledWith(AuthApiKeyRevoked, {
        keyId: row.id,
        prefix: row.prefix,
      });
      expect(audit.record).toHaveBeenCalledWith(
        expect.objectContaining({
          action: 'api-key.revoke',
          outcome: 'success',
          resource: { type: 'ApiKey', id: row.id },
        }),
      );
    });

    it('keeps the first revocation time when a key is revoked again', async () => {
      const admin = user('tenant-admin');
      const earlier = new Date(NOW.getTime() - 86_400_000);
      const { row } = key({ revoked_at: earlier });

      const view = await sut.revoke(admin, row.id);

      expect(view.revokedAt).toBe(earlier.toISOString());
      expect(keys.revoke).not.toHaveBeenCalled();
    });

    it("says NotFound for another user's key to a caller who may see only its own", async () => {
      const { row } = key();

      const error = await failure(sut.revoke(user('developer'), row.id));

      expect(error.code).toBe(ErrorCode.NotFound);
      expect(stored.get(row.id)?.revoked_at).toBeNull();
      expect(events.publish).not.toHaveBeenCalled();
      expect(audit.record).not.toHaveBeenCalled();
    });

    it('refuses a caller who may read keys but not revoke them, without hiding the key', async () => {
      const { row } = key();

      const error = await failure(sut.revoke(user('auditor'), row.id));

      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(stored.get(row.id)?.revoked_at).toBeNull();
    });

    it('says NotFound for a key the tenant does not have', async () => {
      const error = await failure(sut.revoke(user('tenant-admin'), randomUUID()));

      expect(error.code).toBe(ErrorCode.NotFound);
    });
  });

  describe('verify', () => {
    /** A key of an enabled user holding the given roles. */
    const keyOf = (roles: string[], changes: Partial<ApiKeyRow> = {}) => {
      const owner = user(...roles).actor.id;
      return key({ owner_id: owner, ...changes });
    };
    const refusal = async (text: string) => (await failure(sut.verify(text))).code;

    it('says who the key speaks for, finding it by prefix before its tenant is known', async () => {
      const { row, text } = keyOf(['developer'], {
        expires_at: new Date(NOW.getTime() + 1000),
      });

      await expect(sut.verify(text)).resolves.toEqual({
        keyId: row.id,
        tenantId,
        ownerType: 'user',
        ownerId: row.owner_id,
        roles: ['developer'],
        permissions: ['read:Job:tenant'],
        expiresAt: new Date(NOW.getTime() + 1000).toISOString(),
      });
      expect(scope.tenants).toEqual([PLATFORM_TENANT_ID, tenantId]);
    });

    it('refuses text that is not an API key without looking anything up', async () => {
      expect(await refusal('lat_short_secret')).toBe(ErrorCode.Unauthenticated);
      expect(keys.byPrefix).not.toHaveBeenCalled();
    });

    it('refuses a key whose secret does not match', async () => {
      const { text } = keyOf(['developer']);
      const forged = text.slice(0, -1) + (text.endsWith('A') ? 'B' : 'A');

      expect(await refusal(forged)).toBe(ErrorCode.Unauthenticated);
    });

    it('refuses an unknown key', async () => {
      expect(await refusal(newApiKey().key)).toBe(ErrorCode.Unauthenticated);
    });

    it('refuses a revoked key', async () => {
      const { text } = keyOf(['developer'], { revoked_at: new Date(NOW.getTime() - 1) });

      expect(await refusal(text)).toBe(ErrorCode.Unauthenticated);
    });

    it('refuses a key from the moment it expires', async () => {
      const { text } = keyOf(['developer'], { expires_at: new Date(NOW.getTime() + 60_000) });
      await expect(sut.verify(text)).resolves.toBeDefined();

      clock.advance(60_000);

      expect(await refusal(text)).toBe(ErrorCode.Unauthenticated);
    });

    it('refuses a key of a tenant that is not active', async () => {
      const { row, text } = keyOf(['developer']);
      tenants.isActive.mockImplementation(async (id) => id !== row.tenant_id);

      expect(await refusal(text)).toBe(ErrorCode.Unauthenticated);
    });

    it('refuses a key whose owner is disabled or gone', async () => {
      const { row, text } = keyOf(['developer']);
      enabled.delete(row.owner_id);

      expect(await refusal(text)).toBe(ErrorCode.Unauthenticated);
    });

    it('cuts the permissions of a key to what its owner still holds', async () => {
      const { row, text } = keyOf(['tenant-admin'], {
        permissions: ['manage:User:tenant', 'read:Job:tenant'],
      });
      held.set(row.owner_id, ['viewer']);

      await expect(sut.verify(text)).resolves.toMatchObject({
        roles: ['viewer'],
        permissions: ['read:Job:tenant'],
      });
    });

    it('notes when a key was last used, at most once a minute', async () => {
      const { row, text } = keyOf(['developer'], {
        last_used_at: new Date(NOW.getTime() - 30_000),
      });

      await sut.verify(text);
      expect(keys.touch).not.toHaveBeenCalled();

      clock.advance(31_000);
      await sut.verify(text);
      expect(keys.touch).toHaveBeenCalledWith(em, row.id, clock.now());
    });
  });
});
