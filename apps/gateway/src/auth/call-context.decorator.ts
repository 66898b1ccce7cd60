import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { DomainError, ErrorCode } from '@lattice/contracts';
import type { RequestContext } from '@lattice/request-context';
import type { AuthenticatedRequest } from './authentication.guard';

/** The authenticated caller of this HTTP request, as services will see it. */
export const Caller = createParamDecorator(
  (_: unknown, context: ExecutionContext): RequestContext => {
    const ctx = context.switchToHttp().getRequest<AuthenticatedRequest>().lattice;
    if (!ctx) throw new DomainError(ErrorCode.Unauthenticated, 'not authenticated');
    return ctx;
  },
);
