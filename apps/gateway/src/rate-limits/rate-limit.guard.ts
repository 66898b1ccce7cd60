import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DomainError, ErrorCode } from '@lattice/contracts';
import type { RequestContext } from '@lattice/messaging';
import type { FastifyReply } from 'fastify';
import type { AuthenticatedRequest } from '../auth/authentication.guard';
import { TenantCache } from '../tenants/tenant-cache';
import { TenantRateLimiter } from './rate-limiter';

const GATEWAY: RequestContext['actor'] = { type: 'service', id: 'gateway', roles: [] };

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
    const tenantId = http.getRequest<AuthenticatedRequest>().lattice?.tenantId;
    if (!tenantId) return true;
    const tenant = await this.tenants.get(
      { tenantId: null, actor: GATEWAY, requestId: randomUUID() },
      tenantId,
    );
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
