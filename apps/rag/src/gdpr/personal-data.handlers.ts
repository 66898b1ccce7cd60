import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { GdprErase, GdprSubjectAccess, type RequestOf } from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { PersonalDataService } from './personal-data.service';

/** The RAG service's answers to the audit service's GDPR scatter-gather. */
@Controller()
export class PersonalDataHandlers {
  constructor(private readonly personalData: PersonalDataService) {}

  @Handles(GdprSubjectAccess)
  async access(
    @Payload() req: RequestOf<typeof GdprSubjectAccess>,
    @CallContext() ctx: RequestContext,
  ) {
    return { service: 'rag', data: await this.personalData.export(ctx, req) };
  }

  @Handles(GdprErase)
  async erase(@Payload() req: RequestOf<typeof GdprErase>, @CallContext() ctx: RequestContext) {
    return { service: 'rag', erased: await this.personalData.erase(ctx, req) };
  }
}
