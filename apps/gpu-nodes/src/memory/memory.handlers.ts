import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { GpuMemoryQuerySubject, type RequestOf } from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { MemoryService } from './memory.service';

@Controller()
export class MemoryHandlers {
  constructor(private readonly memory: MemoryService) {}

  @Handles(GpuMemoryQuerySubject)
  query(
    @Payload() req: RequestOf<typeof GpuMemoryQuerySubject>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.memory.query(ctx, req);
  }
}
