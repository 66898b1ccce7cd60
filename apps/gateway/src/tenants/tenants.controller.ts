import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import {
  CreateTenantRequest,
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
import { z } from 'zod';
import { Caller } from '../auth/call-context.decorator';
import { Requires, param } from '../auth/route-access';
import { Documented } from '../http/openapi';
import { ZodPipe } from '../http/zod.pipe';
import { TenantCache } from './tenant-cache';

const IdParam = { id: Uuid };

@ApiTags('tenants')
@ApiBearerAuth()
@Controller('v1/tenants')
export class TenantsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly cache: TenantCache,
  ) {}

  @Post()
  @HttpCode(201)
  @Requires('create', 'Tenant', () => ({}))
  @Documented({
    summary: 'Create a tenant',
    body: CreateTenantRequest,
    response: TenantView,
    status: 201,
    errors: [403, 409, 413, 415],
  })
  async create(
    @Body(new ZodPipe(CreateTenantRequest)) body: z.output<typeof CreateTenantRequest>,
    @Caller() ctx: RequestContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const tenant = await this.rpc.request(TenantsCreate, body, ctx);
    void reply.header('location', `/v1/tenants/${tenant.id}`);
    return tenant;
  }

  @Get()
  @Requires('read', 'Tenant')
  @Documented({
    summary: 'List tenants, a page at a time',
    query: ListTenantsQuery,
    response: TenantPage,
  })
  list(
    @Query(new ZodPipe(ListTenantsQuery)) query: z.output<typeof ListTenantsQuery>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(TenantsList, query, ctx);
  }

  @Get('by-slug/:slug')
  @Requires('read', 'Tenant')
  @Documented({
    summary: 'Get a tenant by its slug',
    params: { slug: Slug },
    response: TenantView,
    errors: [404],
  })
  getBySlug(@Param('slug', new ZodPipe(Slug)) slug: string, @Caller() ctx: RequestContext) {
    return this.rpc.request(TenantsGetBySlug, { slug }, ctx);
  }

  @Get(':id')
  @Requires('read', 'Tenant', (r) => ({ id: param(r, 'id') }))
  @Documented({ summary: 'Get a tenant', params: IdParam, response: TenantView, errors: [404] })
  get(@Param('id', new ZodPipe(Uuid)) id: string, @Caller() ctx: RequestContext) {
    return this.cache.get(ctx, id);
  }

  @Patch(':id')
  @Requires('update', 'Tenant', (r) => ({ id: param(r, 'id') }))
  @Documented({
    summary: 'Change a tenant’s name, settings, plan or quota overrides',
    params: IdParam,
    body: UpdateTenantBody,
    response: TenantView,
    errors: [403, 404, 409, 413, 415],
  })
  async update(
    @Param('id', new ZodPipe(Uuid)) id: string,
    @Body(new ZodPipe(UpdateTenantBody)) changes: z.output<typeof UpdateTenantBody>,
    @Caller() ctx: RequestContext,
  ) {
    return this.changed(id, await this.rpc.request(TenantsUpdate, { id, changes }, ctx));
  }

  @Post(':id/suspend')
  @Requires('update', 'Tenant', () => ({}))
  @HttpCode(200)
  @Documented({
    summary: 'Suspend a tenant',
    params: IdParam,
    response: TenantView,
    errors: [403, 404, 409],
  })
  async suspend(@Param('id', new ZodPipe(Uuid)) id: string, @Caller() ctx: RequestContext) {
    return this.changed(id, await this.rpc.request(TenantsSuspend, { id }, ctx));
  }

  @Post(':id/reactivate')
  @Requires('update', 'Tenant', () => ({}))
  @HttpCode(200)
  @Documented({
    summary: 'Reactivate a suspended or deleted (not yet purged) tenant',
    params: IdParam,
    response: TenantView,
    errors: [403, 404],
  })
  async reactivate(@Param('id', new ZodPipe(Uuid)) id: string, @Caller() ctx: RequestContext) {
    return this.changed(id, await this.rpc.request(TenantsReactivate, { id }, ctx));
  }

  @Delete(':id')
  @Requires('delete', 'Tenant', (r) => ({ id: param(r, 'id') }))
  @Documented({
    summary: 'Delete a tenant (purged after the retention period)',
    params: IdParam,
    response: TenantView,
    errors: [403, 404],
  })
  async delete(@Param('id', new ZodPipe(Uuid)) id: string, @Caller() ctx: RequestContext) {
    return this.changed(id, await this.rpc.request(TenantsDelete, { id }, ctx));
  }

  @Get(':id/usage')
  @Requires('read', 'Usage', (r) => ({ tenantId: param(r, 'id') }))
  @Documented({
    summary: 'Usage against quota this period',
    params: IdParam,
    response: UsageReply,
    errors: [404],
  })
  usage(@Param('id', new ZodPipe(Uuid)) id: string, @Caller() ctx: RequestContext) {
    return this.rpc.request(TenantsUsage, { tenantId: id }, ctx);
  }

  /** This gateway's own writes evict at once; other replicas hear the event. */
  private changed<T>(id: string, result: T): T {
    this.cache.invalidate(id);
    return result;
  }
}
