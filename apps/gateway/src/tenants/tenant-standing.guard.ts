import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { DomainError, ErrorCode } from '@lattice/contracts';
import { serviceContext } from '@lattice/request-context';
import type { AuthenticatedRequest } from '../auth/authentication.guard';
import { TenantCache } from './tenant-cache';

/**
 * A suspended or deleted tenant's credentials stop working at once: access tokens still
 * within their lifetime and cached API keys included. Runs after authentication; the tenant
 * comes from the gateway's cache, which every tenant event evicts, so a suspension takes
 * effect on the next call. Platform operators (no tenant) are not affected.
 */
@Injectable()
export class TenantStandingGuard implements CanActivate {
  constructor(private readonly tenants: TenantCache) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const tenantId = request.lattice?.tenantId;
    if (!tenantId) return true;
    const tenant = await this.tenants
      .get(serviceContext('gateway'), tenantId)
      .catch((error: unknown) => {
        // purged: the credentials outlived their tenant
        if (error instanceof DomainError && error.code === ErrorCode.NotFound) return undefined;
        throw error;
      });
    if (tenant?.status === 'active') {
      request.tenant = tenant;
      return true;
    }
    throw new DomainError(
      ErrorCode.Forbidden,
      tenant ? `the tenant is ${tenant.status}` : 'the tenant no longer exists',
    );
  }
}
