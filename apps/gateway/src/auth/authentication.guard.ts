import { hash } from 'node:crypto';
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
import type { ApiKeyPrincipal } from '@lattice/contracts';
import { ApiKeyCache } from './api-key.cache';
import { AUTHENTICATED, ROUTE_PERMISSION, type RoutePermission } from './route-access';

export type AuthenticatedRequest = FastifyRequest & {
  lattice?: RequestContext;
  user?: AccessClaims;
  /** The caller's tenant, once the standing check has looked it up for the guards after it. */
  tenant?: TenantView;
};

const unauthenticated = (message: string) => new DomainError(ErrorCode.Unauthenticated, message);

/** Who a credential speaks for: a request context but for its request id. */
type Principal = Omit<RequestContext, 'requestId'>;

/** Who may call a route, read from its metadata once. */
interface Access {
  public: boolean;
  authenticated: boolean;
  permission?: RoutePermission;
}

/** A verified token: its claims, and the caller they make (one object for all its calls). */
interface VerifiedToken {
  claims: AccessClaims;
  principal: Principal;
}

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
 *
 * A token seen before costs a hash and a lookup: the verified token is kept (by its digest,
 * never the token itself) until it expires, with the caller it makes, whose permissions
 * `abilityOf` then works out once for all its calls; an API key's caller likewise lives as
 * long as the key's cached principal. What each route admits is read once per route.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  /** Verified tokens, so the hot path does not check the same signature twice. */
  private readonly verified = new LRUCache<string, VerifiedToken>({ max: 50_000, ttl: 1 });
  /** The caller each API key principal (as cached) makes. */
  private readonly keyPrincipals = new WeakMap<ApiKeyPrincipal, Principal>();
  private readonly access = new WeakMap<object, Access>();

  constructor(
    private readonly reflector: Reflector,
    private readonly jwt: JwtGuard,
    private readonly apiKeys: ApiKeyCache,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.accessOf(context);
    if (access.public) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const ctx = await this.authenticate(request, context);
    request.lattice = ctx;

    if (access.authenticated) return true;
    const permission = access.permission;
    const ability = abilityOf(ctx);
    const target = permission?.record
      ? record(permission.resource, permission.record(request))
      : permission?.resource;
    if (permission && target && ability.can(permission.action, target as never)) return true;
    this.deny(request, ctx, permission);
  }

  private accessOf(context: ExecutionContext): Access {
    const handler = context.getHandler();
    let access = this.access.get(handler);
    if (!access) {
      const targets = [handler, context.getClass()];
      access = {
        public: !!this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets),
        authenticated: !!this.reflector.getAllAndOverride<boolean>(AUTHENTICATED, targets),
        permission: this.reflector.getAllAndOverride<RoutePermission | undefined>(
          ROUTE_PERMISSION,
          targets,
        ),
      };
      this.access.set(handler, access);
    }
    return access;
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

    const cacheKey = hash('sha256', token, 'base64url');
    let verified = this.verified.get(cacheKey);
    if (!verified) {
      await this.jwt.canActivate(context);
      const claims = request.user!;
      const { requestId: _unused, ...principal } = contextFromClaims(claims, '');
      verified = { claims, principal };
      const exp = (
        JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
          exp: number;
        }
      ).exp;
      const ttl = exp * 1000 - Date.now();
      if (ttl > 0) this.verified.set(cacheKey, verified, { ttl });
    }
    return { ...verified.principal, requestId: request.id };
  }

  private async fromApiKey(key: string, requestId: string): Promise<RequestContext> {
    const found = await this.apiKeys.principal(key);
    let principal = this.keyPrincipals.get(found);
    if (!principal) {
      principal = {
        tenantId: found.tenantId === PLATFORM_TENANT_ID ? null : found.tenantId,
        actor: {
          type: 'api-key',
          id: found.keyId,
          ownerId: found.ownerId,
          roles: found.roles,
          permissions: found.permissions,
        },
      };
      this.keyPrincipals.set(found, principal);
    }
    return { ...principal, requestId };
  }
}

const isUuid = (v: string) =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
