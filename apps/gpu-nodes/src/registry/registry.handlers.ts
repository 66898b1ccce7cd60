import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  GpuFleetStatusGet,
  GpuNodesCordon,
  GpuNodesDrain,
  GpuNodesGet,
  GpuNodesHealthCheck,
  GpuNodesList,
  GpuNodesRegister,
  GpuNodesUncordon,
  type RequestOf,
} from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { RegistryService } from './registry.service';

@Controller()
export class RegistryHandlers {
  constructor(private readonly registry: RegistryService) {}

  @Handles(GpuNodesRegister)
  register(@Payload() req: RequestOf<typeof GpuNodesRegister>, @CallContext() ctx: RequestContext) {
    return this.registry.register(ctx, req);
  }

  @Handles(GpuNodesList)
  list(@Payload() req: RequestOf<typeof GpuNodesList>, @CallContext() ctx: RequestContext) {
    return this.registry.list(ctx, req);
  }

  @Handles(GpuNodesGet)
  get(@Payload() req: RequestOf<typeof GpuNodesGet>, @CallContext() ctx: RequestContext) {
    return this.registry.get(ctx, req.id);
  }

  @Handles(GpuNodesDrain)
  drain(@Payload() req: RequestOf<typeof GpuNodesDrain>, @CallContext() ctx: RequestContext) {
    return this.registry.drain(ctx, req.id);
  }

  @Handles(GpuNodesCordon)
  cordon(@Payload() req: RequestOf<typeof GpuNodesCordon>, @CallContext() ctx: RequestContext) {
    return this.registry.cordon(ctx, req.id);
  }

  @Handles(GpuNodesUncordon)
  uncordon(@Payload() req: RequestOf<typeof GpuNodesUncordon>, @CallContext() ctx: RequestContext) {
    return this.registry.uncordon(ctx, req.id);
  }

  @Handles(GpuFleetStatusGet)
  status(@CallContext() ctx: RequestContext) {
    return this.registry.status(ctx);
  }

  @Handles(GpuNodesHealthCheck)
  health() {
    return { service: 'gpu-nodes', status: 'ok' as const };
  }
}
