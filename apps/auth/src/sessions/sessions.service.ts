import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { z } from 'zod';
import {
  DomainError,
  ErrorCode,
  PLATFORM_TENANT_ID,
  type AuditOutcome,
  type LoginRequest,
  type RefreshRequest,
  type TokenPair,
} from '@lattice/contracts';
import { TenantScope } from '@lattice/database';
import { AuditRecorder } from '@lattice/messaging';
import { Clock } from '@lattice/service-runtime';
import { TenantDirectory } from '../access/tenant-directory';
import { AUTH_SETTINGS, type AuthSettings } from '../auth.settings';
import { PasswordHasher } from '../passwords/password-hasher';
import { RoleCatalog } from '../roles/role-catalog';
import { SigningKeys } from '../signing-keys/signing-keys.service';
import { UserRepository, type UserRow } from '../users/user.repository';
import {
  formatRefreshToken,
  hashSecret,
  newRefreshToken,
  parseRefreshToken,
  secretMatches,
} from './refresh-token';
import { RefreshTokenRepository, type RefreshTokenRow } from './refresh-token.repository';

/** One answer for every failed login, so it tells an attacker nothing. */
const invalidCredentials = () =>
  new DomainError(ErrorCode.Unauthenticated, 'the email or password is not valid');
const invalidRefresh = () =>
  new DomainError(ErrorCode.Unauthenticated, 'the refresh token is not valid');

type Origin = { sourceIp?: string; userAgent?: string };

/** Logins, refresh-token rotation with reuse detection, and logout. */
@Injectable()
export class SessionsService {
  constructor(
    private readonly scope: TenantScope,
    private readonly users: UserRepository,
    private readonly tokens: RefreshTokenRepository,
    private readonly roles: RoleCatalog,
    private readonly tenants: TenantDirectory,
    private readonly hasher: PasswordHasher,
    private readonly keys: SigningKeys,
    private readonly audit: AuditRecorder,
    private readonly clock: Clock,
    @Inject(AUTH_SETTINGS) private readonly settings: AuthSettings,
  ) {}

  async login(request: z.output<typeof LoginRequest>, requestId: string): Promise<TokenPair> {
    const tenantId = await this.tenants.activeIdBySlug(request.tenant);
    const origin = { sourceIp: request.sourceIp, userAgent: request.userAgent, requestId };
    if (!tenantId) {
      await this.hasher.verifyNothing(request.password);
      this.record(PLATFORM_TENANT_ID, 'auth.login', 'denied', origin, {
        reason: 'unknown-tenant',
        tenant: request.tenant,
      });
      throw invalidCredentials();
    }
    const now = this.clock.now();
    const outcome = await this.scope.run(tenantId, async (em) => {
      const user = await this.users.byEmail(em, request.email);
      if (!user) {
        await this.hasher.verifyNothing(request.password);
        return { ok: false as const, reason: 'unknown-email' };
      }
      const matches = await this.hasher.verify(request.password, user.password_hash);
      if (user.status === 'disabled') return { ok: false as const, reason: 'disabled', user };
      if (user.locked_until && user.locked_until > now)
        return { ok: false as const, reason: 'locked', user };
      if (!matches) {
        const lockUntil = new Date(now.getTime() + this.settings.lockoutSeconds * 1000);
        const { locked } = await this.users.recordFailure(
          em,
          user.id,
          this.settings.lockoutThreshold,
          lockUntil,
        );
        return { ok: false as const, reason: 'wrong-password', user, locked };
      }
      const rehash = this.hasher.needsRehash(user.password_hash)
        ? await this.hasher.hash(request.password)
        : undefined;
      await this.users.recordLogin(em, user.id, now, rehash);
      return { ok: true as const, tokens: await this.issue(em, user, randomUUID(), null) };
    });
    if (!outcome.ok) {
      const userId = 'user' in outcome ? outcome.user?.id : undefined;
      this.record(tenantId, 'auth.login', 'denied', origin, { reason: outcome.reason }, userId);
      if ('locked' in outcome && outcome.locked) {
        this.record(
          tenantId,
          'auth.lockout',
          'success',
          origin,
          {
            until: new Date(now.getTime() + this.settings.lockoutSeconds * 1000).toISOString(),
          },
          userId,
        );
      }
      throw invalidCredentials();
    }
    this.record(tenantId, 'auth.login', 'success', origin, {}, outcome.tokens.userId);
    return outcome.tokens.pair;
  }

  /**
   * Swaps a refresh token for a new pair. Each token works once; using a spent one again
   * means it was stolen, so the whole family is revoked, except within a short grace for the
   * token just replaced (a client that refreshed twice at once).
   */
  async refresh(request: z.output<typeof RefreshRequest>, requestId: string): Promise<TokenPair> {
    const token = parseRefreshToken(request.refreshToken);
    const origin = { sourceIp: request.sourceIp, userAgent: request.userAgent, requestId };
    if (!token) {
      this.record(PLATFORM_TENANT_ID, 'auth.refresh', 'denied', origin, { reason: 'malformed' });
      throw invalidRefresh();
    }
    const now = this.clock.now();
    const tenantActive = await this.tenants.isActive(token.tenantId);
    const result = await this.scope.run(token.tenantId, async (em) => {
      const row = await this.tokenRow(em, token.id, token.secret);
      if (!row || row.revoked_at) return { ok: false as const, reason: 'revoked-or-unknown' };
      // a suspended tenant's sessions resume if it is reactivated; a deleted one's end at purge
      if (!tenantActive) return { ok: false as const, reason: 'tenant-inactive', row };
      if (row.expires_at <= now) return { ok: false as const, reason: 'expired', row };
      if (row.used_at) {
        const graceEnds = row.used_at.getTime() + this.settings.refreshReuseGraceSeconds * 1000;
        // only the token just replaced gets the grace, not one replaced twice over
        const newest = !(await this.tokens.successorUsed(em, row.id));
        if (now.getTime() > graceEnds || !newest) {
          await this.tokens.revokeFamily(em, row.family_id, now);
          return { ok: false as const, reason: 'reuse-detected', row };
        }
      }
      const user = await this.users.byId(em, row.user_id);
      if (!user || user.status === 'disabled' || (user.locked_until && user.locked_until > now))
        return { ok: false as const, reason: 'user-inactive', row };
      if (!row.used_at) await this.tokens.markUsed(em, row.id, now);
      return { ok: true as const, tokens: await this.issue(em, user, row.family_id, row.id) };
    });
    if (!result.ok) {
      const userId = 'row' in result ? result.row?.user_id : undefined;
      const action =
        result.reason === 'reuse-detected' ? 'auth.refresh-reuse-detected' : 'auth.refresh';
      this.record(token.tenantId, action, 'denied', origin, { reason: result.reason }, userId);
      throw invalidRefresh();
    }
    this.record(token.tenantId, 'auth.refresh', 'success', origin, {}, result.tokens.userId);
    return result.tokens.pair;
  }

  /** Ends the session the refresh token belongs to: every token of its family stops working. */
  async logout(request: z.output<typeof RefreshRequest>, requestId: string): Promise<boolean> {
    const token = parseRefreshToken(request.refreshToken);
    const origin = { sourceIp: request.sourceIp, userAgent: request.userAgent, requestId };
    if (!token) {
      this.record(PLATFORM_TENANT_ID, 'auth.logout', 'denied', origin, { reason: 'malformed' });
      throw invalidRefresh();
    }
    const row = await this.scope.run(token.tenantId, async (em) => {
      const found = await this.tokenRow(em, token.id, token.secret);
      if (!found) return undefined;
      await this.tokens.revokeFamily(em, found.family_id, this.clock.now());
      return found;
    });
    if (!row) {
      this.record(token.tenantId, 'auth.logout', 'denied', origin, { reason: 'unknown' });
      throw invalidRefresh();
    }
    this.record(token.tenantId, 'auth.logout', 'success', origin, {}, row.user_id);
    return true;
  }

  private async tokenRow(
    em: EntityManager,
    id: string,
    secret: string,
  ): Promise<RefreshTokenRow | undefined> {
    const row = await this.tokens.lockById(em, id);
    return row && secretMatches(secret, row.secret_hash) ? row : undefined;
  }

  private async issue(
    em: EntityManager,
    user: UserRow,
    familyId: string,
    parentId: string | null,
  ): Promise<{ userId: string; pair: TokenPair }> {
    const roles = await this.roles.rolesOf(em, user.id);
    const permissions = await this.roles.permissionsOf(em, user.tenant_id, roles);
    const accessToken = await this.keys.sign(
      { tid: user.tenant_id, roles, perms: permissions, sid: familyId },
      user.id,
      this.settings.accessTokenTtlSeconds,
    );
    const refresh = newRefreshToken(user.tenant_id);
    const expiresAt = new Date(
      this.clock.now().getTime() + this.settings.refreshTokenTtlSeconds * 1000,
    );
    await this.tokens.insert(em, {
      tenantId: user.tenant_id,
      id: refresh.id,
      familyId,
      parentId,
      userId: user.id,
      secretHash: hashSecret(refresh.secret),
      issuedAt: this.clock.now(),
      expiresAt,
    });
    return {
      userId: user.id,
      pair: {
        accessToken,
        tokenType: 'Bearer',
        expiresIn: this.settings.accessTokenTtlSeconds,
        refreshToken: formatRefreshToken(refresh),
        refreshExpiresIn: this.settings.refreshTokenTtlSeconds,
      },
    };
  }

  private record(
    tenantId: string,
    action: string,
    outcome: AuditOutcome,
    origin: Origin & { requestId: string },
    metadata: Record<string, unknown>,
    userId?: string,
  ): void {
    this.audit.record({
      tenantId,
      actor: userId
        ? { type: 'user', id: userId, roles: [] }
        : { type: 'anonymous', id: 'anonymous', roles: [] },
      action,
      resource: { type: 'User', ...(userId ? { id: userId } : {}) },
      outcome,
      ...origin,
      metadata,
    });
  }
}
