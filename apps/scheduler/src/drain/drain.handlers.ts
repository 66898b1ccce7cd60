import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  SchedulerWorkersDrain,
  SchedulerWorkersDrainState,
  SchedulerWorkersUndrain,
  type RequestOf,
} from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { DrainService } from './drain.service';

@Controller()
export class DrainHandlers {
  constructor(private readonly drains: DrainService) {}

  @Handles(SchedulerWorkersDrain)
  drain(
    @Payload() req: RequestOf<typeof SchedulerWorkersDrain>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.drains.drain(ctx, req);
  }

  @Handles(SchedulerWorkersDrainState)
  state(
    @Payload() req: RequestOf<typeof SchedulerWorkersDrainState>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.drains.state(ctx, req);
  }

  @Handles(SchedulerWorkersUndrain)
  undrain(
    @Payload() req: RequestOf<typeof SchedulerWorkersUndrain>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.drains.undrain(ctx, req);
  }
}
