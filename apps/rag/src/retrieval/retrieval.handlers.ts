import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { RagRetrieve, type RequestOf } from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { RetrievalService } from './retrieval.service';

@Controller()
export class RetrievalHandlers {
  constructor(private readonly retrieval: RetrievalService) {}

  @Handles(RagRetrieve)
  retrieve(@Payload() req: RequestOf<typeof RagRetrieve>, @CallContext() ctx: RequestContext) {
    return this.retrieval.retrieve(ctx, req);
  }
}
