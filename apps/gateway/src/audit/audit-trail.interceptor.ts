import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { AuditRecorder } from '@lattice/messaging';
import type { FastifyReply } from 'fastify';
import { tap, type Observable } from 'rxjs';
import { MUTATING, recordRequest, statusOfError, type AuditedRequest } from './audit-trail';

/** Publishes an audit event for every mutating call that reaches a handler, with its outcome. */
@Injectable()
export class AuditTrailInterceptor implements NestInterceptor {
  constructor(@Inject(AuditRecorder) private readonly recorder: AuditRecorder) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<AuditedRequest>();
    if (!MUTATING.has(request.method)) return next.handle();
    return next.handle().pipe(
      tap({
        next: () =>
          recordRequest(this.recorder, request, http.getResponse<FastifyReply>().statusCode),
        error: (error: unknown) =>
          recordRequest(this.recorder, request, statusOfError(error), error),
      }),
    );
  }
}
