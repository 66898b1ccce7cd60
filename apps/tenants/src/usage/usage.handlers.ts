import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { TenantsQuotaCheck, TenantsUsage, type RequestOf } from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { UsageService } from './usage.service';

@Controller()
export class UsageHandlers {
  constructor(private readonly usage: UsageService) {}

  @Handles(TenantsQuotaCheck)
  check(@Payload() req: RequestOf<typeof TenantsQuotaCheck>, @CallContext() ctx: RequestContext) {
    return this.usage.check(ctx, req);
  }

  @Handles(TenantsUsage)
  current(@Payload() req: RequestOf<typeof TenantsUsage>, @CallContext() ctx: RequestContext) {
    return this.usage.current(ctx, req.tenantId);
  }
}
