import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { z } from 'zod';
import {
  AuthApiKeyRevoked,
  DomainError,
  ErrorCode,
  type ApiKeyPrincipal,
  type ApiKeyView,
  type CreateApiKeyRequest,
} from '@lattice/contracts';
import { actingTenant, notCovered } from '@lattice/authz';
import { TenantScope } from '@lattice/database';
import { AuditRecorder, auditSuccess, EventBus } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { Clock } from '@lattice/service-runtime';
import { TenantDirectory } from '../access/tenant-directory';
import { RoleCatalog } from '../roles/role-catalog';
import { ServiceAccountRepository } from '../service-accounts/service-account.repository';
import { hashSecret, secretMatches } from '../sessions/refresh-token';
import { UserRepository } from '../users/user.repository';
import { newApiKey, parseApiKey } from './api-key-format';
import { ApiKeyRepository, type ApiKeyRow } from './api-key.repository';

const invalidKey = () => new DomainError(ErrorCode.Unauthenticated, 'the API key is not valid');
/** last_used_at is written at most this often per key, not on every call. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** API keys: created scoped to their owner's permissions, shown once, found by prefix. */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly scope: TenantScope,
    private readonly keys: ApiKeyRepository,
    private readonly users: UserRepository,
    private readonly accounts: ServiceAccountRepository,
    private readonly roles: RoleCatalog,
    private readonly tenants: TenantDirectory,
    private readonly audit: AuditRecorder,
    private readonly clock: Clock,
    private readonly events: EventBus,
  ) {}

  async create(
    ctx: RequestContext,
    request: z.output<typeof CreateApiKeyRequest>,
  ): Promise<{ key: string; apiKey: ApiKeyView }> {
    if (ctx.actor.type !== 'user' && !request.serviceAccountId)
      throw new DomainError(ErrorCode.Forbidden, 'only users and service accounts own API keys');
    const acting = actingTenant(ctx, { action: 'create', resource: 'ApiKey', reach: 'some' });
    const { tenantId, principal: caller } = acting;
    const ownerType = request.serviceAccountId ? 'service-account' : 'user';
    const ownerId = request.serviceAccountId ?? caller.actorId;
    acting.authorize('create', 'ApiKey', { ownerId });
    if (request.expiresAt && new Date(request.expiresAt) <= this.clock.now())
      throw new DomainError(ErrorCode.ValidationFailed, 'the expiry is in the past', {
        issues: [{ path: 'expiresAt', message: 'must be in the future' }],
      });
    const generated = newApiKey();
    const row = await this.scope.run(tenantId, async (em) => {
      const ownerPermissions = await this.ownerPermissions(em, tenantId, ownerType, ownerId);
      if (ownerPermissions === undefined)
        throw new DomainError(ErrorCode.NotFound, 'no such service account');
      const permissions = request.permissions ?? ownerPermissions;
      // a key never reaches further than its owner, nor than the one who makes it
      this.roles.assertMayHandOn(ownerPermissions, permissions);
      this.roles.assertMayHandOn(caller.permissions, permissions);
      return this.keys.insert(em, {
        tenantId,
        prefix: generated.prefix,
        secretHash: hashSecret(generated.secret),
        name: request.name,
        ownerType,
        ownerId,
        permissions: [...new Set(permissions)].sort(),
        expiresAt: request.expiresAt ?? null,
        createdBy: ctx.actor.id,
      });
    });
    // the owner may be a person: their id goes under their key, so erasing them erases it
    this.record(
      ctx,
      tenantId,
      'api-key.create',
      row.id,
      { ownerId, permissions: row.permissions },
      { subjectId: ownerId, personal: ['ownerId'] },
    );
    return { key: generated.key, apiKey: view(row) };
  }

  async list(ctx: RequestContext): Promise<ApiKeyView[]> {
    // keys of others are left out where the caller may read only its own
    const acting = actingTenant(ctx, { action: 'read', resource: 'ApiKey', reach: 'some' });
    const { tenantId } = acting;
    const rows = await this.scope.run(tenantId, (em) => this.keys.listOfTenant(em, tenantId));
    return rows.filter((r) => acting.can('read', 'ApiKey', { ownerId: r.owner_id })).map(view);
  }

  async revoke(ctx: RequestContext, id: string): Promise<ApiKeyView> {
    const acting = actingTenant(ctx, {
      action: 'read',
      resource: 'ApiKey',
      reach: 'some',
      refusal: { code: ErrorCode.NotFound, message: 'no such API key' },
    });
    const { tenantId } = acting;
    const row = await this.scope.run(tenantId, async (em) => {
      const found = await this.keys.lockById(em, tenantId, id);
      if (!found || !acting.can('read', 'ApiKey', { ownerId: found.owner_id }))
        throw new DomainError(ErrorCode.NotFound, 'no such API key');
      acting.authorize('delete', 'ApiKey', { ownerId: found.owner_id });
      if (found.revoked_at) return found;
      return this.keys.revoke(em, id, this.clock.now());
    });
    // every gateway drops the key from its cache now rather than when the entry expires
    this.events.publish(AuthApiKeyRevoked, { keyId: row.id, prefix: row.prefix });
    this.record(ctx, tenantId, 'api-key.revoke', row.id, {});
    return view(row);
  }

  /** Who a key speaks for and what it may do now: its scope, cut to what its owner still holds. */
  async verify(key: string): Promise<ApiKeyPrincipal> {
    const parts = parseApiKey(key);
    if (!parts) throw invalidKey();
    const now = this.clock.now();
    const row = await this.scope.runAsPlatform((em) => this.keys.byPrefix(em, parts.prefix));
    if (
      !row ||
      !secretMatches(parts.secret, row.secret_hash) ||
      row.revoked_at ||
      (row.expires_at && row.expires_at <= now) ||
      !(await this.tenants.isActive(row.tenant_id))
    )
      throw invalidKey();
    return this.scope.run(row.tenant_id, async (em) => {
      const roles =
        row.owner_type === 'user' || row.owner_type === 'service-account'
          ? await this.roles.rolesOf(em, row.owner_id)
          : [];
      const ownerPermissions = await this.ownerPermissions(
        em,
        row.tenant_id,
        row.owner_type,
        row.owner_id,
      );
      if (ownerPermissions === undefined) throw invalidKey();
      const lost = new Set(notCovered(ownerPermissions, row.permissions));
      if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > LAST_USED_RESOLUTION_MS)
        await this.keys.touch(em, row.id, now);
      return {
        keyId: row.id,
        tenantId: row.tenant_id,
        ownerType: row.owner_type,
        ownerId: row.owner_id,
        roles,
        permissions: row.permissions.filter((p) => !lost.has(p)),
        expiresAt: row.expires_at?.toISOString() ?? null,
      };
    });
  }

  /** The owner's current permissions; undefined when the owner is gone or disabled. */
  private async ownerPermissions(
    em: EntityManager,
    tenantId: string,
    ownerType: 'user' | 'service-account',
    ownerId: string,
  ): Promise<string[] | undefined> {
    const present =
      ownerType === 'user'
        ? await this.users.isEnabled(em, ownerId)
        : await this.accounts.exists(em, ownerId);
    if (!present) return undefined;
    return this.roles.permissionsOf(em, tenantId, await this.roles.rolesOf(em, ownerId));
  }

  private record(
    ctx: RequestContext,
    tenantId: string,
    action: string,
    keyId: string,
    metadata: Record<string, unknown>,
    personal: { subjectId?: string; personal?: string[] } = {},
  ): void {
    this.audit.record(
      auditSuccess(ctx, {
        tenantId,
        action,
        resource: { type: 'ApiKey', id: keyId },
        metadata,
        ...personal,
      }),
    );
  }
}

function view(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    prefix: row.prefix,
    ownerType: row.owner_type,
    ownerId: row.owner_id,
    permissions: row.permissions,
    expiresAt: row.expires_at?.toISOString() ?? null,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  };
}
