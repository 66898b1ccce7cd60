import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  AuthApiKeysCreate,
  AuthApiKeysList,
  AuthApiKeysRevoke,
  AuthApiKeysVerify,
  type RequestOf,
} from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { ApiKeysService } from './api-keys.service';

@Controller()
export class ApiKeysHandlers {
  constructor(private readonly keys: ApiKeysService) {}

  @Handles(AuthApiKeysCreate)
  create(@Payload() req: RequestOf<typeof AuthApiKeysCreate>, @CallContext() ctx: RequestContext) {
    return this.keys.create(ctx, req);
  }

  @Handles(AuthApiKeysList)
  async list(@CallContext() ctx: RequestContext) {
    return { items: await this.keys.list(ctx) };
  }

  @Handles(AuthApiKeysRevoke)
  revoke(@Payload() req: RequestOf<typeof AuthApiKeysRevoke>, @CallContext() ctx: RequestContext) {
    return this.keys.revoke(ctx, req.id);
  }

  @Handles(AuthApiKeysVerify)
  verify(@Payload() req: RequestOf<typeof AuthApiKeysVerify>) {
    return this.keys.verify(req.key);
  }
}
