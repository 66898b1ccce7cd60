import { randomUUID } from 'node:crypto';
import { DomainError, ErrorCode, PLATFORM_TENANT_ID } from '@lattice/contracts';
import type { RequestContext } from '@lattice/request-context';
import { actingTenant, type ActingTenantRequest } from './acting-tenant';

const TENANT_A = randomUUID();
const TENANT_B = randomUUID();

/** A context as the gateway sends it: the platform as null, as on the wire. */
function user(
  roles: string[],
  tenantId: string | null = TENANT_A,
  id = 'u-1',
  permissions?: string[],
): RequestContext {
  return {
    tenantId,
    actor: { type: 'user', id, roles, ...(permissions ? { permissions } : {}) },
    requestId: randomUUID(),
  };
}
const platform = (role: string, id = 'p-1') => user([role], null, id);

/** The error `actingTenant` threw, or fails the test when it did not throw. */
function refusal(ctx: RequestContext, request: ActingTenantRequest): DomainError {
  try {
    actingTenant(ctx, request);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe(actingTenant.name, () => {
  describe('which tenant', () => {
    it('is the caller own tenant when the call names none', () => {
      const acting = actingTenant(user(['tenant-admin']), { action: 'read', resource: 'User' });
      expect(acting.tenantId).toBe(TENANT_A);
      expect(acting.principal).toMatchObject({ tenantId: TENANT_A, actorId: 'u-1' });
    });

    it('is the one named, for a platform admin acting on another tenant', () => {
      const acting = actingTenant(platform('platform-admin'), {
        tenantId: TENANT_B,
        action: 'create',
        resource: 'User',
      });
      expect(acting.tenantId).toBe(TENANT_B);
      expect(acting.can('delete', 'ApiKey', { ownerId: 'anyone' })).toBe(true);
    });

    it('is the platform tenant id, never null, for a platform caller naming none', () => {
      const acting = actingTenant(platform('platform-operator'), {
        action: 'read',
        resource: 'AuditEvent',
      });
      expect(acting.tenantId).toBe(PLATFORM_TENANT_ID);
      expect(acting.principal.tenantId).toBe(PLATFORM_TENANT_ID);
    });

    it('treats a null request as naming none', () => {
      expect(
        actingTenant(user(['viewer']), { tenantId: null, action: 'read', resource: 'User' })
          .tenantId,
      ).toBe(TENANT_A);
    });

    it('is its own when a tenant user names its own tenant', () => {
      expect(
        actingTenant(user(['tenant-admin']), {
          tenantId: TENANT_A,
          action: 'update',
          resource: 'Role',
        }).tenantId,
      ).toBe(TENANT_A);
    });

    it('refuses a tenant user naming another tenant, with a typed Forbidden error', () => {
      const error = refusal(user(['tenant-owner']), {
        tenantId: TENANT_B,
        action: 'read',
        resource: 'User',
      });
      expect(error.code).toBe(ErrorCode.Forbidden);
      expect(error.details).toEqual({ action: 'read', resource: 'User' });
    });

    it('refuses a tenant user naming the platform tenant', () => {
      expect(
        refusal(user(['tenant-owner']), {
          tenantId: PLATFORM_TENANT_ID,
          action: 'read',
          resource: 'AuditEvent',
        }).code,
      ).toBe(ErrorCode.Forbidden);
    });

    it('keeps a platform-scope permission held by a tenant user to its own tenant', () => {
      const smuggled = user([], TENANT_A, 'u-1', ['manage:all:platform']);
      const acting = actingTenant(smuggled, { action: 'delete', resource: 'User' });
      expect(acting.tenantId).toBe(TENANT_A);
      expect(
        refusal(smuggled, { tenantId: TENANT_B, action: 'delete', resource: 'User' }).code,
      ).toBe(ErrorCode.Forbidden);
      // nor does it reach every tenant, nor the platform's own resources
      expect(acting.can('update', 'Tenant', 'every-tenant')).toBe(false);
      expect(acting.can('manage', 'SigningKey', 'every-tenant')).toBe(false);
    });

    it('gives a platform user holding only tenant-scope permissions no other tenant', () => {
      const narrow = user([], null, 'p-2', ['read:User:tenant']);
      expect(actingTenant(narrow, { action: 'read', resource: 'User' }).tenantId).toBe(
        PLATFORM_TENANT_ID,
      );
      expect(refusal(narrow, { tenantId: TENANT_B, action: 'read', resource: 'User' }).code).toBe(
        ErrorCode.Forbidden,
      );
    });
  });

  describe('what the caller may do there', () => {
    it('refuses an action the roles do not grant, even in the own tenant', () => {
      expect(refusal(user(['viewer']), { action: 'create', resource: 'User' })).toMatchObject({
        code: ErrorCode.Forbidden,
        message: 'not allowed to create User',
      });
    });

    it('lets a platform operator read another tenant but not write to it', () => {
      const operator = platform('platform-operator');
      expect(
        actingTenant(operator, { tenantId: TENANT_B, action: 'read', resource: 'User' }).tenantId,
      ).toBe(TENANT_B);
      expect(
        refusal(operator, { tenantId: TENANT_B, action: 'create', resource: 'User' }).code,
      ).toBe(ErrorCode.Forbidden);
    });

    it('does not count own-scope permissions for the resource as a whole', () => {
      const developer = user(['developer'], TENANT_A, 'dev-1');
      expect(refusal(developer, { action: 'create', resource: 'ApiKey' }).code).toBe(
        ErrorCode.Forbidden,
      );
      expect(
        actingTenant(developer, {
          action: 'create',
          resource: 'ApiKey',
          reach: { ownerId: 'dev-1' },
        }).tenantId,
      ).toBe(TENANT_A);
      expect(
        refusal(developer, { action: 'delete', resource: 'ApiKey', reach: { ownerId: 'dev-2' } })
          .code,
      ).toBe(ErrorCode.Forbidden);
    });

    it('lets "some" through on own-scope permissions and leaves each record to `can`', () => {
      const acting = actingTenant(user(['developer'], TENANT_A, 'dev-1'), {
        action: 'read',
        resource: 'ApiKey',
        reach: 'some',
      });
      expect(acting.can('read', 'ApiKey', { ownerId: 'dev-1' })).toBe(true);
      expect(acting.can('read', 'ApiKey', { ownerId: 'dev-2' })).toBe(false);
      expect(() => acting.authorize('delete', 'ApiKey', { ownerId: 'dev-2' })).toThrow(
        expect.objectContaining({ code: ErrorCode.Forbidden }),
      );
      expect(() => acting.authorize('delete', 'ApiKey', { ownerId: 'dev-1' })).not.toThrow();
      // "some" is not "every": an analyst holds no API key permission at all
      expect(
        refusal(user(['analyst']), { action: 'read', resource: 'ApiKey', reach: 'some' }).code,
      ).toBe(ErrorCode.Forbidden);
    });

    it('checks a record in the acting tenant, whatever tenant its fields claim', () => {
      const admin = actingTenant(user(['tenant-admin']), { action: 'read', resource: 'User' });
      expect(admin.can('update', 'User', { id: 'u-9' })).toBe(true);
      expect(admin.can('update', 'User', { id: 'u-9', tenantId: TENANT_B })).toBe(true);
      const elsewhere = actingTenant(platform('platform-admin'), {
        tenantId: TENANT_B,
        action: 'read',
        resource: 'User',
      });
      expect(elsewhere.can('update', 'User', { id: 'u-9', tenantId: TENANT_A })).toBe(true);
    });

    it('names a tenant record by its id: a tenant owner closes its own tenant only', () => {
      const owner = user(['tenant-owner']);
      expect(
        actingTenant(owner, { tenantId: TENANT_A, action: 'delete', resource: 'Tenant' }).tenantId,
      ).toBe(TENANT_A);
      expect(
        refusal(owner, { tenantId: TENANT_B, action: 'delete', resource: 'Tenant' }).code,
      ).toBe(ErrorCode.Forbidden);
    });

    it('keeps "every tenant" to platform-scope permissions', () => {
      const request = {
        action: 'update',
        resource: 'Tenant',
        reach: 'every-tenant',
      } as const satisfies ActingTenantRequest;
      expect(actingTenant(platform('platform-operator'), request).tenantId).toBe(
        PLATFORM_TENANT_ID,
      );
      expect(refusal(user(['tenant-owner']), request).code).toBe(ErrorCode.Forbidden);
      // a platform user with a tenant-scope permission reaches the platform tenant, not every one
      const narrow = user([], null, 'p-3', ['update:Tenant:tenant']);
      expect(actingTenant(narrow, { action: 'update', resource: 'Tenant' }).tenantId).toBe(
        PLATFORM_TENANT_ID,
      );
      expect(refusal(narrow, request).code).toBe(ErrorCode.Forbidden);
    });

    it('keeps platform resources to the platform', () => {
      const request = {
        action: 'manage',
        resource: 'SigningKey',
        reach: 'every-tenant',
      } as const satisfies ActingTenantRequest;
      expect(() => actingTenant(platform('platform-admin'), request)).not.toThrow();
      expect(refusal(platform('platform-operator'), request).code).toBe(ErrorCode.Forbidden);
      expect(refusal(user(['tenant-owner']), request).code).toBe(ErrorCode.Forbidden);
    });

    it('reads the permissions an access token carries over the roles it names', () => {
      const narrowed = user(['tenant-admin'], TENANT_A, 'u-1', ['read:User:tenant']);
      expect(() => actingTenant(narrowed, { action: 'read', resource: 'User' })).not.toThrow();
      expect(refusal(narrowed, { action: 'create', resource: 'User' }).code).toBe(
        ErrorCode.Forbidden,
      );
    });

    it('acts for an API key with its owner as the actor', () => {
      const key: RequestContext = {
        tenantId: TENANT_A,
        actor: {
          type: 'api-key',
          id: 'key-1',
          ownerId: 'dev-1',
          roles: ['developer'],
          permissions: ['manage:ApiKey:own'],
        },
        requestId: randomUUID(),
      };
      const acting = actingTenant(key, { action: 'delete', resource: 'ApiKey', reach: 'some' });
      expect(acting.principal.actorId).toBe('dev-1');
      expect(acting.can('delete', 'ApiKey', { ownerId: 'dev-1' })).toBe(true);
      expect(acting.can('delete', 'ApiKey', { ownerId: 'key-1' })).toBe(false);
    });
  });

  describe('a data subject', () => {
    const subject = (action: 'manage' | 'delete', subjectId: string, tenantId?: string) => ({
      tenantId,
      action,
      resource: 'User' as const,
      reach: { id: subjectId },
      subjectId,
    });

    it('may always act on its own personal data, whatever its roles', () => {
      expect(
        actingTenant(user(['viewer'], TENANT_A, 'u-7'), subject('delete', 'u-7')).tenantId,
      ).toBe(TENANT_A);
      expect(
        actingTenant(user([], null, 'p-7'), subject('manage', 'p-7', PLATFORM_TENANT_ID)).tenantId,
      ).toBe(PLATFORM_TENANT_ID);
    });

    it("may not act on another user's, nor on its own id in another tenant", () => {
      expect(refusal(user(['viewer'], TENANT_A, 'u-7'), subject('manage', 'u-8')).code).toBe(
        ErrorCode.Forbidden,
      );
      expect(
        refusal(user(['viewer'], TENANT_A, 'u-7'), subject('manage', 'u-7', TENANT_B)).code,
      ).toBe(ErrorCode.Forbidden);
    });

    it('is not an API key, even one its owner made', () => {
      const key: RequestContext = {
        tenantId: TENANT_A,
        actor: { type: 'api-key', id: 'u-7', ownerId: 'u-7', roles: [], permissions: [] },
        requestId: randomUUID(),
      };
      expect(refusal(key, subject('manage', 'u-7')).code).toBe(ErrorCode.Forbidden);
    });

    it("is reachable by those whose permissions cover that user's record", () => {
      expect(actingTenant(user(['tenant-admin']), subject('delete', 'u-8')).tenantId).toBe(
        TENANT_A,
      );
      expect(
        actingTenant(platform('platform-admin'), subject('delete', 'u-8', TENANT_B)).tenantId,
      ).toBe(TENANT_B);
      expect(refusal(platform('platform-operator'), subject('delete', 'u-8', TENANT_B)).code).toBe(
        ErrorCode.Forbidden,
      );
    });
  });

  describe('a refusal', () => {
    it('reads as asked: NotFound where it must not reveal the record', () => {
      const error = refusal(user(['analyst']), {
        action: 'read',
        resource: 'User',
        reach: { id: 'u-2' },
        refusal: { code: ErrorCode.NotFound, message: 'no such user' },
      });
      expect(error).toMatchObject({ code: ErrorCode.NotFound, message: 'no such user' });
    });

    it('reads as asked for another tenant too', () => {
      expect(
        refusal(user(['tenant-owner']), {
          tenantId: TENANT_B,
          action: 'read',
          resource: 'Tenant',
          refusal: { code: ErrorCode.NotFound, message: 'no such tenant' },
        }).code,
      ).toBe(ErrorCode.NotFound);
    });
  });
});
