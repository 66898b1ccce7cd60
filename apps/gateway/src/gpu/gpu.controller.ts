import { Body, Controller, Delete, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  ActingTenantQuery,
  CreateGpuLeaseRequest,
  ErrorCode,
  GpuFleetStatus,
  GpuFleetStatusGet,
  GpuLeaseView,
  GpuLeasesCreate,
  GpuLeasesRelease,
  GpuListNodesQuery,
  GpuNodeList,
  GpuNodeView,
  GpuNodesDrain,
  GpuNodesGet,
  GpuNodesList,
  GpuNodesRegister,
  RegisterGpuNodeRequest,
  Uuid,
} from '@lattice/contracts';
import { RpcClient } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { Caller } from '../auth/call-context.decorator';
import { Route } from '../http/route';

const IdParam = { id: Uuid };

/** The GPU fleet (a platform view) and the VRAM leases tenants hold on it. */
@ApiTags('gpu')
@Controller('v1/gpu')
export class GpuController {
  constructor(private readonly rpc: RpcClient) {}

  @Get('nodes')
  @Route({
    summary: 'List the GPU nodes with their GPUs, health and VRAM (platform operators)',
    permission: { action: 'read', resource: 'GpuNode' },
    query: GpuListNodesQuery,
    response: GpuNodeList,
  })
  list(@Query() query: z.output<typeof GpuListNodesQuery>, @Caller() ctx: RequestContext) {
    return this.rpc.request(GpuNodesList, query, ctx);
  }

  @Post('nodes')
  @Route({
    summary:
      'Register a GPU node, or say what models it serves; it joins routing once its agent beats',
    permission: { action: 'create', resource: 'GpuNode' },
    body: RegisterGpuNodeRequest,
    response: GpuNodeView,
    status: 201,
  })
  async register(
    @Body() body: z.output<typeof RegisterGpuNodeRequest>,
    @Caller() ctx: RequestContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const node = await this.rpc.request(GpuNodesRegister, body, ctx);
    void reply.header('location', `/v1/gpu/nodes/${node.id}`);
    return node;
  }

  @Get('nodes/:id')
  @Route({
    summary: 'Get a GPU node with its GPUs, health and VRAM',
    permission: { action: 'read', resource: 'GpuNode' },
    params: IdParam,
    response: GpuNodeView,
    errors: [ErrorCode.NotFound],
  })
  get(@Param('id') id: string, @Caller() ctx: RequestContext) {
    return this.rpc.request(GpuNodesGet, { id }, ctx);
  }

  @Post('nodes/:id/drain')
  @Route({
    summary: 'Drain a GPU node: no new calls or leases now; the leases it holds run out',
    permission: { action: 'update', resource: 'GpuNode' },
    params: IdParam,
    response: GpuNodeView,
    errors: [ErrorCode.NotFound],
  })
  drain(@Param('id') id: string, @Caller() ctx: RequestContext) {
    return this.rpc.request(GpuNodesDrain, { id }, ctx);
  }

  @Get('status')
  @Route({
    summary: 'The GPU fleet at a glance: nodes by state, GPUs, VRAM used and free per GPU model',
    permission: { action: 'read', resource: 'GpuNode' },
    response: GpuFleetStatus,
  })
  status(@Caller() ctx: RequestContext) {
    return this.rpc.request(GpuFleetStatusGet, {}, ctx);
  }

  @Post('leases')
  @Route({
    summary: 'Lease VRAM on a GPU for a model; renew it over NATS within its time to live',
    permission: { action: 'create', resource: 'GpuLease' },
    body: CreateGpuLeaseRequest,
    response: GpuLeaseView,
    status: 201,
    errors: [ErrorCode.NotFound, ErrorCode.Conflict, ErrorCode.QuotaExceeded],
  })
  async lease(
    @Body() body: z.output<typeof CreateGpuLeaseRequest>,
    @Caller() ctx: RequestContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const lease = await this.rpc.request(GpuLeasesCreate, body, ctx);
    void reply.header('location', `/v1/gpu/leases/${lease.id}`);
    return lease;
  }

  @Delete('leases/:id')
  @Route({
    summary: 'Release a VRAM lease; a lease that already ended is returned as it ended',
    permission: { action: 'delete', resource: 'GpuLease' },
    params: IdParam,
    query: ActingTenantQuery,
    response: GpuLeaseView,
    errors: [ErrorCode.NotFound],
  })
  release(
    @Param('id') id: string,
    @Query() query: z.output<typeof ActingTenantQuery>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(GpuLeasesRelease, { id, ...query }, ctx);
  }
}
