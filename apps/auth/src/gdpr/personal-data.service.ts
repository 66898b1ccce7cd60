import { Injectable } from '@nestjs/common';
import type { GdprServiceRequest } from '@lattice/contracts';
import { assertMayActOnPersonalData } from '@lattice/authz';
import { TenantScope } from '@lattice/database';
import type { RequestContext } from '@lattice/request-context';
import { ApiKeyRepository } from '../api-keys/api-key.repository';
import { RoleBindingRepository } from '../roles/role-binding.repository';
import { RefreshTokenRepository } from '../sessions/refresh-token.repository';
import { UserRepository } from '../users/user.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What the auth service holds about a user, for subject access (Article 15/20), and its
 * erasure (Article 17): the account, its roles, its sessions and the API keys it owns.
 * Secrets (password hash, token and key hashes) are never part of an export.
 */
@Injectable()
export class PersonalDataService {
  constructor(
    private readonly scope: TenantScope,
    private readonly users: UserRepository,
    private readonly bindings: RoleBindingRepository,
    private readonly refreshTokens: RefreshTokenRepository,
    private readonly apiKeys: ApiKeyRepository,
  ) {}

  async export(ctx: RequestContext, request: GdprServiceRequest): Promise<unknown> {
    assertMayActOnPersonalData(ctx, 'manage', request);
    if (!UUID.test(request.subjectId)) return null;
    return this.scope.run(request.tenantId, async (em) => {
      const user = await this.users.personalData(em, request.subjectId);
      if (!user) return null;
      const [roles, sessions, apiKeys] = await Promise.all([
        this.bindings.personalData(em, request.subjectId),
        this.refreshTokens.personalData(em, request.subjectId),
        this.apiKeys.personalData(em, request.subjectId),
      ]);
      return { user, roles, sessions, apiKeys };
    });
  }

  /** Removes the account and everything hanging off it; returns how many records went. */
  async erase(ctx: RequestContext, request: GdprServiceRequest): Promise<number> {
    assertMayActOnPersonalData(ctx, 'delete', request);
    if (!UUID.test(request.subjectId)) return 0;
    return this.scope.run(request.tenantId, async (em) => {
      const counts = await Promise.all([
        this.apiKeys.removeAllOfUser(em, request.subjectId),
        this.bindings.removeAllOf(em, request.subjectId),
        this.refreshTokens.removeAllOfUser(em, request.subjectId),
      ]);
      const users = await this.users.remove(em, request.subjectId);
      return counts.reduce((sum, n) => sum + n, 0) + users;
    });
  }
}
