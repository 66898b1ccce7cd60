import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  GpuLeasesCreate,
  GpuLeasesGet,
  GpuLeasesList,
  GpuLeasesRelease,
  GpuLeasesRenew,
  type RequestOf,
} from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { LeaseService } from './lease.service';

@Controller()
export class LeaseHandlers {
  constructor(private readonly leases: LeaseService) {}

  @Handles(GpuLeasesCreate)
  create(@Payload() req: RequestOf<typeof GpuLeasesCreate>, @CallContext() ctx: RequestContext) {
    return this.leases.create(ctx, req);
  }

  @Handles(GpuLeasesRenew)
  renew(@Payload() req: RequestOf<typeof GpuLeasesRenew>, @CallContext() ctx: RequestContext) {
    return this.leases.renew(ctx, req);
  }

  @Handles(GpuLeasesRelease)
  release(@Payload() req: RequestOf<typeof GpuLeasesRelease>, @CallContext() ctx: RequestContext) {
    return this.leases.release(ctx, req.id, req.tenantId);
  }

  @Handles(GpuLeasesGet)
  get(@Payload() req: RequestOf<typeof GpuLeasesGet>, @CallContext() ctx: RequestContext) {
    return this.leases.get(ctx, req.id, req.tenantId);
  }

  @Handles(GpuLeasesList)
  list(@Payload() req: RequestOf<typeof GpuLeasesList>, @CallContext() ctx: RequestContext) {
    return this.leases.list(ctx, req);
  }
}
