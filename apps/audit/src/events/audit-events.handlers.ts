import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  AuditExportPage,
  AuditHealthCheck,
  AuditQuery,
  AuditVerify,
  type ReplyOf,
  type RequestOf,
} from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { auditTenant } from '../audit-access';
import { ChainService } from '../chain/chain.service';
import { AuditQueryService } from './audit-query.service';

@Controller()
export class AuditEventsHandlers {
  constructor(
    private readonly queries: AuditQueryService,
    private readonly chain: ChainService,
  ) {}

  @Handles(AuditQuery)
  query(@Payload() req: RequestOf<typeof AuditQuery>, @CallContext() ctx: RequestContext) {
    return this.queries.query(ctx, req);
  }

  @Handles(AuditExportPage)
  exportPage(
    @Payload() req: RequestOf<typeof AuditExportPage>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.queries.exportPage(ctx, req);
  }

  @Handles(AuditVerify)
  verify(@Payload() req: RequestOf<typeof AuditVerify>, @CallContext() ctx: RequestContext) {
    return this.chain.verify(auditTenant(ctx, req.tenantId));
  }

  @Handles(AuditHealthCheck)
  health(): ReplyOf<typeof AuditHealthCheck> {
    return { service: 'audit', status: 'ok' };
  }
}
