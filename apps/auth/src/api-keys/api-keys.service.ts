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
import { abilityOf, authorize, notCovered, principalOf, record } from '@lattice/authz';
import { TenantScope } from '@lattice/database';
import { AuditRecorder, auditActorOf, EventBus } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { Clock } from '@lattice/service-runtime';
import { RoleCatalog } from '../access/role-catalog';
import { TenantDirectory } from '../access/tenant-directory';
import { hashSecret, secretMatches } from '../sessions/refresh-token';
import { newApiKey, parseApiKey } from './api-key-format';

interface ApiKeyRow {
  tenant_id: string;
  id: string;
  prefix: string;
  secret_hash: Buffer;
  name: string;
  owner_type: 'user' | 'service-account';
  owner_id: string;
  permissions: string[];
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

const invalidKey = () => new DomainError(ErrorCode.Unauthenticated, 'the API key is not valid');
/** last_used_at is written at most this often per key, not on every call. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** API keys: created scoped to their owner's permissions, shown once, found by prefix. */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly scope: TenantScope,
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
    const caller = principalOf(ctx);
    const tenantId = caller.tenantId;
    if (ctx.actor.type !== 'user' && !request.serviceAccountId)
      throw new DomainError(ErrorCode.Forbidden, 'only users and service accounts own API keys');
    const ownerType = request.serviceAccountId ? 'service-account' : 'user';
    const ownerId = request.serviceAccountId ?? caller.actorId;
    authorize(abilityOf(ctx), 'create', record('ApiKey', { tenantId, ownerId }));
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
      const [inserted]: ApiKeyRow[] = await em.query(
        `INSERT INTO auth.api_keys
           (tenant_id, prefix, secret_hash, name, owner_type, owner_id, permissions, expires_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
        [
          tenantId,
          generated.prefix,
          hashSecret(generated.secret),
          request.name,
          ownerType,
          ownerId,
          [...new Set(permissions)].sort(),
          request.expiresAt ?? null,
          ctx.actor.id,
        ],
      );
      return inserted!;
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
    const tenantId = principalOf(ctx).tenantId;
    const ability = abilityOf(ctx);
    authorize(ability, 'read', 'ApiKey');
    const rows: ApiKeyRow[] = await this.scope.run(tenantId, (em) =>
      em.query(`SELECT * FROM auth.api_keys WHERE tenant_id = $1 ORDER BY created_at, id`, [
        tenantId,
      ]),
    );
    return rows
      .filter((r) => ability.can('read', record('ApiKey', { tenantId, ownerId: r.owner_id })))
      .map(view);
  }

  async revoke(ctx: RequestContext, id: string): Promise<ApiKeyView> {
    const tenantId = principalOf(ctx).tenantId;
    const ability = abilityOf(ctx);
    const row = await this.scope.run(tenantId, async (em) => {
      const [found]: ApiKeyRow[] = await em.query(
        `SELECT * FROM auth.api_keys WHERE id = $1 AND tenant_id = $2 FOR UPDATE`,
        [id, tenantId],
      );
      if (!found || !ability.can('read', record('ApiKey', { tenantId, ownerId: found.owner_id })))
        throw new DomainError(ErrorCode.NotFound, 'no such API key');
      authorize(ability, 'delete', record('ApiKey', { tenantId, ownerId: found.owner_id }));
      if (found.revoked_at) return found;
      // TypeORM answers an UPDATE with [rows, count]
      const [[updated]]: [ApiKeyRow[]] = await em.query(
        `UPDATE auth.api_keys SET revoked_at = $2 WHERE id = $1 RETURNING *`,
        [id, this.clock.now()],
      );
      return updated!;
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
    const row = await this.scope.runAsPlatform(async (em) => {
      const [found]: ApiKeyRow[] = await em.query(`SELECT * FROM auth.api_keys WHERE prefix = $1`, [
        parts.prefix,
      ]);
      return found;
    });
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
        await em.query(`UPDATE auth.api_keys SET last_used_at = $2 WHERE id = $1`, [row.id, now]);
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
    const [owner] = await em.query(
      ownerType === 'user'
        ? `SELECT 1 FROM auth.users WHERE id = $1 AND status <> 'disabled'`
        : `SELECT 1 FROM auth.service_accounts WHERE id = $1`,
      [ownerId],
    );
    if (!owner) return undefined;
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
    this.audit.record({
      tenantId,
      actor: auditActorOf(ctx),
      action,
      resource: { type: 'ApiKey', id: keyId },
      outcome: 'success',
      requestId: ctx.requestId,
      metadata,
      ...personal,
    });
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
