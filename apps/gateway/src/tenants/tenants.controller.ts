import { Body, Controller, Delete, Get, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  CreateTenantRequest,
  ErrorCode,
  ListTenantsQuery,
  Slug,
  TenantPage,
  TenantView,
  TenantsCreate,
  TenantsDelete,
  TenantsGetBySlug,
  TenantsList,
  TenantsReactivate,
  TenantsSuspend,
  TenantsUpdate,
  TenantsUsage,
  UpdateTenantBody,
  UsageReply,
  Uuid,
} from '@lattice/contracts';
import { RpcClient } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { Caller } from '../auth/call-context.decorator';
import { param } from '../auth/route-access';
import { Route } from '../http/route';
import { TenantCache } from './tenant-cache';

const IdParam = { id: Uuid };

@ApiTags('tenants')
@Controller('v1/tenants')
export class TenantsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly cache: TenantCache,
  ) {}

  @Post()
  @Route({
    summary: 'Create a tenant',
    permission: { action: 'create', resource: 'Tenant', record: () => ({}) },
    body: CreateTenantRequest,
    response: TenantView,
    status: 201,
    errors: [ErrorCode.Conflict],
  })
  async create(
    @Body() body: z.output<typeof CreateTenantRequest>,
    @Caller() ctx: RequestContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const tenant = await this.rpc.request(TenantsCreate, body, ctx);
    void reply.header('location', `/v1/tenants/${tenant.id}`);
    return tenant;
  }

  @Get()
  @Route({
    summary: 'List tenants, a page at a time',
    permission: { action: 'read', resource: 'Tenant' },
    query: ListTenantsQuery,
    response: TenantPage,
  })
  list(@Query() query: z.output<typeof ListTenantsQuery>, @Caller() ctx: RequestContext) {
    return this.rpc.request(TenantsList, query, ctx);
  }

  @Get('by-slug/:slug')
  @Route({
    summary: 'Get a tenant by its slug',
    permission: { action: 'read', resource: 'Tenant' },
    params: { slug: Slug },
    response: TenantView,
    errors: [ErrorCode.NotFound],
  })
  getBySlug(@Param('slug') slug: string, @Caller() ctx: RequestContext) {
    return this.rpc.request(TenantsGetBySlug, { slug }, ctx);
  }

  @Get(':id')
  @Route({
    summary: 'Get a tenant',
    permission: { action: 'read', resource: 'Tenant', record: (r) => ({ id: param(r, 'id') }) },
    params: IdParam,
    response: TenantView,
    errors: [ErrorCode.NotFound],
  })
  get(@Param('id') id: string, @Caller() ctx: RequestContext) {
    return this.cache.get(ctx, id);
  }

  @Patch(':id')
  @Route({
    summary: 'Change a tenant’s name, settings, plan or quota overrides',
    permission: { action: 'update', resource: 'Tenant', record: (r) => ({ id: param(r, 'id') }) },
    params: IdParam,
    body: UpdateTenantBody,
    response: TenantView,
    errors: [ErrorCode.NotFound, ErrorCode.Conflict],
  })
  async update(
    @Param('id') id: string,
    @Body() changes: z.output<typeof UpdateTenantBody>,
    @Caller() ctx: RequestContext,
  ) {
    return this.changed(id, await this.rpc.request(TenantsUpdate, { id, changes }, ctx));
  }

  @Post(':id/suspend')
  @Route({
    summary: 'Suspend a tenant',
    permission: { action: 'update', resource: 'Tenant', record: () => ({}) },
    params: IdParam,
    response: TenantView,
    errors: [ErrorCode.NotFound, ErrorCode.InvalidState],
  })
  async suspend(@Param('id') id: string, @Caller() ctx: RequestContext) {
    return this.changed(id, await this.rpc.request(TenantsSuspend, { id }, ctx));
  }

  @Post(':id/reactivate')
  @Route({
    summary: 'Reactivate a suspended or deleted (not yet purged) tenant',
    permission: { action: 'update', resource: 'Tenant', record: () => ({}) },
    params: IdParam,
    response: TenantView,
    errors: [ErrorCode.NotFound],
  })
  async reactivate(@Param('id') id: string, @Caller() ctx: RequestContext) {
    return this.changed(id, await this.rpc.request(TenantsReactivate, { id }, ctx));
  }

  @Delete(':id')
  @Route({
    summary: 'Delete a tenant (purged after the retention period)',
    permission: { action: 'delete', resource: 'Tenant', record: (r) => ({ id: param(r, 'id') }) },
    params: IdParam,
    response: TenantView,
    errors: [ErrorCode.NotFound],
  })
  async delete(@Param('id') id: string, @Caller() ctx: RequestContext) {
    return this.changed(id, await this.rpc.request(TenantsDelete, { id }, ctx));
  }

  @Get(':id/usage')
  @Route({
    summary: 'Usage against quota this period',
    permission: {
      action: 'read',
      resource: 'Usage',
      record: (r) => ({ tenantId: param(r, 'id') }),
    },
    params: IdParam,
    response: UsageReply,
    errors: [ErrorCode.NotFound],
  })
  usage(@Param('id') id: string, @Caller() ctx: RequestContext) {
    return this.rpc.request(TenantsUsage, { tenantId: id }, ctx);
  }

  /** This gateway's own writes evict at once; other replicas hear the event. */
  private changed<T>(id: string, result: T): T {
    this.cache.invalidate(id);
    return result;
  }
}
