import { Body, Controller, Get, Param, Post, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  CreateQueueRequest,
  ErrorCode,
  QueueList,
  QueueView,
  SchedulerQueueName,
  SchedulerQueuesCreate,
  SchedulerQueuesGet,
  SchedulerQueuesList,
} from '@lattice/contracts';
import { RpcClient } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { Caller } from '../auth/call-context.decorator';
import { Route } from '../http/route';

@ApiTags('jobs')
@Controller('v1/queues')
export class QueuesController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @Route({
    summary: 'Declare a job queue (platform operators)',
    permission: { action: 'create', resource: 'Queue', record: () => ({}) },
    body: CreateQueueRequest,
    response: QueueView,
    status: 201,
    errors: [ErrorCode.Conflict],
  })
  async create(
    @Body() body: z.output<typeof CreateQueueRequest>,
    @Caller() ctx: RequestContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const queue = await this.rpc.request(SchedulerQueuesCreate, body, ctx);
    void reply.header('location', `/v1/queues/${queue.name}`);
    return queue;
  }

  @Get()
  @Route({
    summary: 'List the job queues with their depth: your own jobs, or every tenant’s for operators',
    permission: { action: 'read', resource: 'Job' },
    response: QueueList,
  })
  list(@Caller() ctx: RequestContext) {
    return this.rpc.request(SchedulerQueuesList, {}, ctx);
  }

  @Get(':name')
  @Route({
    summary: 'Get a job queue with its depth, running jobs and oldest wait',
    permission: { action: 'read', resource: 'Job' },
    params: { name: SchedulerQueueName },
    response: QueueView,
    errors: [ErrorCode.NotFound],
  })
  get(@Param('name') name: string, @Caller() ctx: RequestContext) {
    return this.rpc.request(SchedulerQueuesGet, { name }, ctx);
  }
}
