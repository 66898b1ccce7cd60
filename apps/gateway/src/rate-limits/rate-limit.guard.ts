import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { DomainError, ErrorCode } from '@lattice/contracts';
import { serviceContext } from '@lattice/request-context';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedRequest } from '../auth/authentication.guard';
import { TenantCache } from '../tenants/tenant-cache';
import { TenantRateLimiter } from './rate-limiter';

/**
 * Holds each tenant to its plan's requests per minute, answering with the IETF `RateLimit-*`
 * headers and, once over, 429 with `Retry-After`. Runs after authentication; public routes
 * and platform operators are not counted against a tenant.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly tenants: TenantCache,
    private readonly limiter: TenantRateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const tenantId = request.lattice?.tenantId;
    if (!tenantId) return true;
    // looked up already by the standing check that runs before this guard
    const tenant = request.tenant ?? (await this.tenants.get(serviceContext('gateway'), tenantId));
    const result = await this.limiter.consume(tenantId, tenant.quotas.requestsPerMinute);
    const reply = http.getResponse<FastifyReply>();
    void reply.header('ratelimit-limit', result.limit);
    void reply.header('ratelimit-remaining', result.remaining);
    void reply.header('ratelimit-reset', result.resetSeconds);
    void reply.header('ratelimit-policy', `${result.limit};w=60`);
    if (result.allowed) return true;
    void reply.header('retry-after', result.resetSeconds);
    throw new DomainError(
      ErrorCode.RateLimited,
      `the tenant's plan allows ${result.limit} requests per minute`,
      { retryAfterSeconds: result.resetSeconds },
    );
  }
}
