import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  ActingTenantQuery,
  ErrorCode,
  JobPage,
  JobView,
  ListDeadLettersQuery,
  ListJobsQuery,
  SchedulerDeadLettersList,
  SchedulerDeadLettersRetry,
  SchedulerJobsCancel,
  SchedulerJobsGet,
  SchedulerJobsList,
  SchedulerJobsSubmit,
  SubmitJobRequest,
  Uuid,
} from '@lattice/contracts';
import { RpcClient } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { Caller } from '../auth/call-context.decorator';
import { Route } from '../http/route';

const IdParam = { id: Uuid };

@ApiTags('jobs')
@Controller('v1')
export class JobsController {
  constructor(private readonly rpc: RpcClient) {}

  @Post('jobs')
  @Route({
    summary: 'Submit a job; the same idempotency key and body returns the job it created',
    permission: { action: 'create', resource: 'Job' },
    body: SubmitJobRequest,
    response: JobView,
    status: 201,
    errors: [
      ErrorCode.NotFound,
      ErrorCode.IdempotencyMismatch,
      ErrorCode.Conflict,
      ErrorCode.QuotaExceeded,
    ],
  })
  async submit(
    @Body() body: z.output<typeof SubmitJobRequest>,
    @Caller() ctx: RequestContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const job = await this.rpc.request(SchedulerJobsSubmit, body, ctx);
    void reply.header('location', `/v1/jobs/${job.id}`);
    return job;
  }

  @Get('jobs')
  @Route({
    summary: 'List jobs, newest first, a page at a time',
    permission: { action: 'read', resource: 'Job' },
    query: ListJobsQuery,
    response: JobPage,
  })
  list(@Query() query: z.output<typeof ListJobsQuery>, @Caller() ctx: RequestContext) {
    return this.rpc.request(SchedulerJobsList, query, ctx);
  }

  @Get('jobs/:id')
  @Route({
    summary: 'Get a job',
    permission: { action: 'read', resource: 'Job' },
    params: IdParam,
    query: ActingTenantQuery,
    response: JobView,
    errors: [ErrorCode.NotFound],
  })
  get(
    @Param('id') id: string,
    @Query() query: z.output<typeof ActingTenantQuery>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(SchedulerJobsGet, { id, ...query }, ctx);
  }

  @Post('jobs/:id/cancel')
  @Route({
    summary: 'Cancel a job that has not finished; a worker running it is told to stop',
    permission: { action: 'update', resource: 'Job' },
    params: IdParam,
    query: ActingTenantQuery,
    response: JobView,
    errors: [ErrorCode.NotFound, ErrorCode.InvalidState, ErrorCode.Conflict],
  })
  cancel(
    @Param('id') id: string,
    @Query() query: z.output<typeof ActingTenantQuery>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(SchedulerJobsCancel, { id, ...query }, ctx);
  }

  @Get('dead-letters')
  @Route({
    summary: 'List the jobs that failed their last attempt',
    permission: { action: 'read', resource: 'Job' },
    query: ListDeadLettersQuery,
    response: JobPage,
  })
  deadLetters(
    @Query() query: z.output<typeof ListDeadLettersQuery>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(SchedulerDeadLettersList, query, ctx);
  }

  @Post('dead-letters/:id/retry')
  @Route({
    summary: 'Put a dead job back in its queue with fresh attempts',
    permission: { action: 'update', resource: 'Job' },
    params: IdParam,
    query: ActingTenantQuery,
    response: JobView,
    errors: [ErrorCode.NotFound, ErrorCode.InvalidState, ErrorCode.Conflict],
  })
  retry(
    @Param('id') id: string,
    @Query() query: z.output<typeof ActingTenantQuery>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(SchedulerDeadLettersRetry, { id, ...query }, ctx);
  }
}
