import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  AuditGdprAccess,
  AuditGdprErase,
  GdprErase,
  GdprSubjectAccess,
  type RequestOf,
} from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { GdprService } from './gdpr.service';

@Controller()
export class GdprHandlers {
  constructor(private readonly gdpr: GdprService) {}

  @Handles(AuditGdprAccess)
  access(@Payload() req: RequestOf<typeof AuditGdprAccess>, @CallContext() ctx: RequestContext) {
    return this.gdpr.access(ctx, req);
  }

  @Handles(AuditGdprErase)
  erase(@Payload() req: RequestOf<typeof AuditGdprErase>, @CallContext() ctx: RequestContext) {
    return this.gdpr.erase(ctx, req);
  }

  @Handles(GdprSubjectAccess)
  ownData(@Payload() req: RequestOf<typeof GdprSubjectAccess>, @CallContext() ctx: RequestContext) {
    return this.gdpr.ownData(ctx, req);
  }

  @Handles(GdprErase)
  eraseOwn(@Payload() req: RequestOf<typeof GdprErase>, @CallContext() ctx: RequestContext) {
    return this.gdpr.eraseOwn(ctx, req);
  }
}
