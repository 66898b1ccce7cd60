import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  RagCollectionsCreate,
  RagCollectionsDelete,
  RagCollectionsGet,
  RagCollectionsList,
  type RequestOf,
} from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { CollectionService } from './collection.service';

@Controller()
export class CollectionHandlers {
  constructor(private readonly collections: CollectionService) {}

  @Handles(RagCollectionsCreate)
  create(
    @Payload() req: RequestOf<typeof RagCollectionsCreate>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.collections.create(ctx, req);
  }

  @Handles(RagCollectionsGet)
  get(@Payload() req: RequestOf<typeof RagCollectionsGet>, @CallContext() ctx: RequestContext) {
    return this.collections.get(ctx, req.id, req.tenantId);
  }

  @Handles(RagCollectionsList)
  list(@Payload() req: RequestOf<typeof RagCollectionsList>, @CallContext() ctx: RequestContext) {
    return this.collections.list(ctx, req);
  }

  @Handles(RagCollectionsDelete)
  delete(
    @Payload() req: RequestOf<typeof RagCollectionsDelete>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.collections.delete(ctx, req.id, req.tenantId);
  }
}
