import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  SchedulerJobsComplete,
  SchedulerJobsFail,
  SchedulerJobsHeartbeat,
  SchedulerJobsLease,
  SchedulerJobsProgress,
  SchedulerJobsRelease,
  SchedulerJobsStart,
  SchedulerWorkersRegister,
  type RequestOf,
} from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { DispatchService } from './dispatch.service';

@Controller()
export class DispatchHandlers {
  constructor(private readonly dispatch: DispatchService) {}

  @Handles(SchedulerWorkersRegister)
  register(
    @Payload() req: RequestOf<typeof SchedulerWorkersRegister>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.dispatch.register(ctx, req);
  }

  @Handles(SchedulerJobsLease)
  lease(@Payload() req: RequestOf<typeof SchedulerJobsLease>, @CallContext() ctx: RequestContext) {
    return this.dispatch.lease(ctx, req);
  }

  @Handles(SchedulerJobsHeartbeat)
  heartbeat(
    @Payload() req: RequestOf<typeof SchedulerJobsHeartbeat>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.dispatch.heartbeat(ctx, req);
  }

  @Handles(SchedulerJobsStart)
  start(@Payload() req: RequestOf<typeof SchedulerJobsStart>, @CallContext() ctx: RequestContext) {
    return this.dispatch.start(ctx, req);
  }

  @Handles(SchedulerJobsProgress)
  progress(
    @Payload() req: RequestOf<typeof SchedulerJobsProgress>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.dispatch.progress(ctx, req);
  }

  @Handles(SchedulerJobsComplete)
  complete(
    @Payload() req: RequestOf<typeof SchedulerJobsComplete>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.dispatch.complete(ctx, req);
  }

  @Handles(SchedulerJobsRelease)
  release(
    @Payload() req: RequestOf<typeof SchedulerJobsRelease>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.dispatch.release(ctx, req);
  }

  @Handles(SchedulerJobsFail)
  fail(@Payload() req: RequestOf<typeof SchedulerJobsFail>, @CallContext() ctx: RequestContext) {
    return this.dispatch.fail(ctx, req);
  }
}
