import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  TenantsCreate,
  TenantsDelete,
  TenantsGet,
  TenantsGetBySlug,
  TenantsHealthCheck,
  TenantsList,
  TenantsReactivate,
  TenantsSuspend,
  TenantsUpdate,
  type ReplyOf,
  type RequestOf,
} from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { TenantService } from './tenant.service';

@Controller()
export class TenantHandlers {
  constructor(private readonly tenants: TenantService) {}

  @Handles(TenantsCreate)
  create(@Payload() req: RequestOf<typeof TenantsCreate>, @CallContext() ctx: RequestContext) {
    return this.tenants.create(ctx, req);
  }

  @Handles(TenantsGet)
  get(@Payload() req: RequestOf<typeof TenantsGet>, @CallContext() ctx: RequestContext) {
    return this.tenants.get(ctx, req.id);
  }

  @Handles(TenantsGetBySlug)
  getBySlug(
    @Payload() req: RequestOf<typeof TenantsGetBySlug>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.tenants.getBySlug(ctx, req.slug);
  }

  @Handles(TenantsList)
  list(@Payload() req: RequestOf<typeof TenantsList>, @CallContext() ctx: RequestContext) {
    return this.tenants.list(ctx, req);
  }

  @Handles(TenantsUpdate)
  update(@Payload() req: RequestOf<typeof TenantsUpdate>, @CallContext() ctx: RequestContext) {
    return this.tenants.update(ctx, req.id, req.changes);
  }

  @Handles(TenantsSuspend)
  suspend(@Payload() req: RequestOf<typeof TenantsSuspend>, @CallContext() ctx: RequestContext) {
    return this.tenants.suspend(ctx, req.id);
  }

  @Handles(TenantsReactivate)
  reactivate(
    @Payload() req: RequestOf<typeof TenantsReactivate>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.tenants.reactivate(ctx, req.id);
  }

  @Handles(TenantsDelete)
  delete(@Payload() req: RequestOf<typeof TenantsDelete>, @CallContext() ctx: RequestContext) {
    return this.tenants.delete(ctx, req.id);
  }

  @Handles(TenantsHealthCheck)
  health(): ReplyOf<typeof TenantsHealthCheck> {
    return { service: 'tenants', status: 'ok' };
  }
}
