import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import { DomainError, ErrorCode, PLATFORM_ADMIN_ROLE } from '@lattice/contracts';
import type { RequestContext } from '@lattice/messaging';
import { PUBLIC_ROUTE } from '@lattice/service-runtime';
import type { FastifyRequest } from 'fastify';

export type AuthenticatedRequest = FastifyRequest & { lattice?: RequestContext };

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Until the auth service issues tokens, every non-public route needs the bootstrap admin
 * token. Default deny: a route is open only when it is marked public.
 */
@Injectable()
export class BootstrapTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(
    private readonly reflector: Reflector,
    token: string,
  ) {
    this.expected = digest(token);
  }

  canActivate(context: ExecutionContext): boolean {
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([^\s]+)$/i.exec(header) : null;
    if (!match)
      throw new DomainError(
        ErrorCode.Unauthenticated,
        'send the token as "Authorization: Bearer <token>"',
      );
    // compare digests so the comparison takes the same time whatever the length
    if (!timingSafeEqual(digest(match[1]!), this.expected)) {
      throw new DomainError(ErrorCode.Unauthenticated, 'the token is not valid');
    }
    request.lattice = {
      tenantId: null,
      actor: { type: 'bootstrap', id: 'bootstrap-admin', roles: [PLATFORM_ADMIN_ROLE] },
      requestId: request.id,
    };
    return true;
  }
}
