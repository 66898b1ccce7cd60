import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  SchedulerHealthCheck,
  SchedulerQueueDepth,
  SchedulerQueuesCreate,
  SchedulerQueuesGet,
  SchedulerQueuesList,
  type ReplyOf,
  type RequestOf,
} from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { QueueService } from './queue.service';

@Controller()
export class QueueHandlers {
  constructor(private readonly queues: QueueService) {}

  @Handles(SchedulerQueuesCreate)
  create(
    @Payload() req: RequestOf<typeof SchedulerQueuesCreate>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.queues.create(ctx, req);
  }

  @Handles(SchedulerQueuesList)
  list(@CallContext() ctx: RequestContext) {
    return this.queues.list(ctx);
  }

  @Handles(SchedulerQueuesGet)
  get(@Payload() req: RequestOf<typeof SchedulerQueuesGet>, @CallContext() ctx: RequestContext) {
    return this.queues.get(ctx, req.name);
  }

  @Handles(SchedulerQueueDepth)
  depth(@Payload() req: RequestOf<typeof SchedulerQueueDepth>, @CallContext() ctx: RequestContext) {
    return this.queues.depth(ctx, req.queue);
  }

  @Handles(SchedulerHealthCheck)
  health(): ReplyOf<typeof SchedulerHealthCheck> {
    return { service: 'scheduler', status: 'ok' };
  }
}
