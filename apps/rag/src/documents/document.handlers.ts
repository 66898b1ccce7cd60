import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  RagDocumentsCreate,
  RagDocumentsDelete,
  RagDocumentsGet,
  RagDocumentsList,
  type RequestOf,
} from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { DocumentService } from './document.service';

@Controller()
export class DocumentHandlers {
  constructor(private readonly documents: DocumentService) {}

  @Handles(RagDocumentsCreate)
  create(@Payload() req: RequestOf<typeof RagDocumentsCreate>, @CallContext() ctx: RequestContext) {
    return this.documents.create(ctx, req);
  }

  @Handles(RagDocumentsGet)
  get(@Payload() req: RequestOf<typeof RagDocumentsGet>, @CallContext() ctx: RequestContext) {
    return this.documents.get(ctx, req.collectionId, req.id, req.tenantId);
  }

  @Handles(RagDocumentsList)
  list(@Payload() req: RequestOf<typeof RagDocumentsList>, @CallContext() ctx: RequestContext) {
    return this.documents.list(ctx, req);
  }

  @Handles(RagDocumentsDelete)
  delete(@Payload() req: RequestOf<typeof RagDocumentsDelete>, @CallContext() ctx: RequestContext) {
    return this.documents.delete(ctx, req.collectionId, req.id, req.tenantId);
  }
}
