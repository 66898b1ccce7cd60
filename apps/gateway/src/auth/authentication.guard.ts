import { createHash } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { DomainError, ErrorCode, PLATFORM_TENANT_ID, type TenantView } from '@lattice/contracts';
import { abilityOf, contextFromClaims, record, type AccessClaims } from '@lattice/authz';
import type { RequestContext } from '@lattice/request-context';
import { LOGGER, PUBLIC_ROUTE } from '@lattice/service-runtime';
import type { FastifyRequest } from 'fastify';
import { ApiKeyCache } from './api-key.cache';
import { AUTHENTICATED, ROUTE_PERMISSION, type RoutePermission } from './route-access';

export type AuthenticatedRequest = FastifyRequest & {
  lattice?: RequestContext;
  user?: AccessClaims;
  /** The caller's tenant, once the standing check has looked it up for the guards after it. */
  tenant?: TenantView;
};

const unauthenticated = (message: string) => new DomainError(ErrorCode.Unauthenticated, message);

/** passport-jwt behind Nest's guard, answering failures as our own error code. */
@Injectable()
export class JwtGuard extends AuthGuard('jwt') {
  override handleRequest<T>(error: unknown, user: T, info: unknown): T {
    if (error || !user) {
      // the key set could not be had at all: an outage, not a bad token
      for (const cause of [error, info])
        if (cause instanceof DomainError && cause.code !== ErrorCode.Unauthenticated) throw cause;
      const reason = (info as Error | undefined)?.message ?? (error as Error | undefined)?.message;
      throw unauthenticated(`the access token is not valid${reason ? `: ${reason}` : ''}`);
    }
    return user;
  }
}

/**
 * Every `/v1` call: who is it (an access token verified locally, or an API key vouched for by
 * the auth service), and may they do what the route does. A route admits no one unless it
 * declares a permission or is public; a refusal is logged and audited.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  /** Verified tokens, so the hot path does not check the same signature twice. */
  private readonly verified = new LRUCache<string, AccessClaims>({ max: 50_000, ttl: 1 });

  constructor(
    private readonly reflector: Reflector,
    private readonly jwt: JwtGuard,
    private readonly apiKeys: ApiKeyCache,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const ctx = await this.authenticate(request, context);
    request.lattice = ctx;

    if (this.reflector.getAllAndOverride<boolean>(AUTHENTICATED, targets)) return true;
    const permission = this.reflector.getAllAndOverride<RoutePermission | undefined>(
      ROUTE_PERMISSION,
      targets,
    );
    const ability = abilityOf(ctx);
    const target = permission?.record
      ? record(permission.resource, permission.record(request))
      : permission?.resource;
    if (permission && target && ability.can(permission.action, target as never)) return true;
    this.deny(request, ctx, permission);
  }

  private deny(
    request: AuthenticatedRequest,
    ctx: RequestContext,
    permission: RoutePermission | undefined,
  ): never {
    const wanted = permission
      ? `${permission.action} ${permission.resource}`
      : 'an undeclared route';
    const target = permission?.record?.(request);
    const crossTenant =
      target !== undefined &&
      Object.values(target).some(
        (v) => typeof v === 'string' && ctx.tenantId !== null && v !== ctx.tenantId && isUuid(v),
      );
    this.logger.warn(
      {
        requestId: ctx.requestId,
        actor: ctx.actor.id,
        tenantId: ctx.tenantId,
        wanted,
        target,
        crossTenant,
      },
      'permission denied',
    );
    // the audit trail records the refusal once the 403 is out (see GatewayAuditModule)
    throw new DomainError(ErrorCode.Forbidden, `not allowed to ${wanted}`);
  }

  private async authenticate(
    request: AuthenticatedRequest,
    context: ExecutionContext,
  ): Promise<RequestContext> {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/i.exec(header) : null;
    if (!match)
      throw unauthenticated('send an access token or API key as "Authorization: Bearer <token>"');
    const token = match[1]!;
    if (token.startsWith('lat_')) return this.fromApiKey(token, request.id);

    const cacheKey = createHash('sha256').update(token).digest('base64url');
    let claims = this.verified.get(cacheKey);
    if (!claims) {
      await this.jwt.canActivate(context);
      claims = request.user!;
      const exp = (
        JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
          exp: number;
        }
      ).exp;
      const ttl = exp * 1000 - Date.now();
      if (ttl > 0) this.verified.set(cacheKey, claims, { ttl });
    }
    return contextFromClaims(claims, request.id);
  }

  private async fromApiKey(key: string, requestId: string): Promise<RequestContext> {
    const principal = await this.apiKeys.principal(key);
    return {
      tenantId: principal.tenantId === PLATFORM_TENANT_ID ? null : principal.tenantId,
      actor: {
        type: 'api-key',
        id: principal.keyId,
        ownerId: principal.ownerId,
        roles: principal.roles,
        permissions: principal.permissions,
      },
      requestId,
    };
  }
}

const isUuid = (v: string) =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
