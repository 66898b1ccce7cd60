import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { AuditConsentsList, AuditConsentsRecord, type RequestOf } from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { ConsentService } from './consent.service';

@Controller()
export class ConsentHandlers {
  constructor(private readonly consents: ConsentService) {}

  @Handles(AuditConsentsRecord)
  record(
    @Payload() req: RequestOf<typeof AuditConsentsRecord>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.consents.record(ctx, req);
  }

  @Handles(AuditConsentsList)
  list(@Payload() req: RequestOf<typeof AuditConsentsList>, @CallContext() ctx: RequestContext) {
    return this.consents.list(ctx, req);
  }
}
