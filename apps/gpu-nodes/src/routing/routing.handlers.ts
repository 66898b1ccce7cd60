import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { GpuRoute, GpuRouteReportFailure, type RequestOf } from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { RoutingService } from './routing.service';

@Controller()
export class RoutingHandlers {
  constructor(private readonly routing: RoutingService) {}

  @Handles(GpuRoute)
  route(@Payload() req: RequestOf<typeof GpuRoute>, @CallContext() ctx: RequestContext) {
    return this.routing.route(ctx, req);
  }

  @Handles(GpuRouteReportFailure)
  reportFailure(
    @Payload() req: RequestOf<typeof GpuRouteReportFailure>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.routing.reportFailure(ctx, req);
  }
}
