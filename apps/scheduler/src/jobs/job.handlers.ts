import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  SchedulerDeadLettersList,
  SchedulerDeadLettersRetry,
  SchedulerJobsCancel,
  SchedulerJobsGet,
  SchedulerJobsList,
  SchedulerJobsSubmit,
  type RequestOf,
} from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { JobService } from './job.service';

@Controller()
export class JobHandlers {
  constructor(private readonly jobs: JobService) {}

  @Handles(SchedulerJobsSubmit)
  submit(
    @Payload() req: RequestOf<typeof SchedulerJobsSubmit>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.jobs.submit(ctx, req);
  }

  @Handles(SchedulerJobsGet)
  get(@Payload() req: RequestOf<typeof SchedulerJobsGet>, @CallContext() ctx: RequestContext) {
    return this.jobs.get(ctx, req.id, req.tenantId);
  }

  @Handles(SchedulerJobsList)
  list(@Payload() req: RequestOf<typeof SchedulerJobsList>, @CallContext() ctx: RequestContext) {
    return this.jobs.list(ctx, req);
  }

  @Handles(SchedulerJobsCancel)
  cancel(
    @Payload() req: RequestOf<typeof SchedulerJobsCancel>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.jobs.cancel(ctx, req.id, req.tenantId);
  }

  @Handles(SchedulerDeadLettersList)
  deadLetters(
    @Payload() req: RequestOf<typeof SchedulerDeadLettersList>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.jobs.listDeadLetters(ctx, req);
  }

  @Handles(SchedulerDeadLettersRetry)
  retry(
    @Payload() req: RequestOf<typeof SchedulerDeadLettersRetry>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.jobs.retryDeadLetter(ctx, req.id, req.tenantId);
  }
}
