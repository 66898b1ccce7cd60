import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { RagQuery, RagUsageReconciliation, type RequestOf } from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { QueryService } from './query.service';
import { TokenReconciliationService } from './token-reconciliation.service';

@Controller()
export class QueryHandlers {
  constructor(
    private readonly queries: QueryService,
    private readonly reconciliation: TokenReconciliationService,
  ) {}

  @Handles(RagQuery)
  ask(@Payload() req: RequestOf<typeof RagQuery>, @CallContext() ctx: RequestContext) {
    return this.queries.ask(ctx, req);
  }

  @Handles(RagUsageReconciliation)
  reconcile(
    @Payload() req: RequestOf<typeof RagUsageReconciliation>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.reconciliation.report(ctx, req);
  }
}
