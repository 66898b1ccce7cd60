import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  AuthServiceAccountsCreate,
  AuthServiceAccountsList,
  type RequestOf,
} from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { ServiceAccountsService } from './service-accounts.service';

@Controller()
export class ServiceAccountsHandlers {
  constructor(private readonly accounts: ServiceAccountsService) {}

  @Handles(AuthServiceAccountsCreate)
  create(
    @Payload() req: RequestOf<typeof AuthServiceAccountsCreate>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.accounts.create(ctx, req);
  }

  @Handles(AuthServiceAccountsList)
  async list(@CallContext() ctx: RequestContext) {
    return { items: await this.accounts.list(ctx) };
  }
}
