import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  AuthUsersCreate,
  AuthUsersGet,
  AuthUsersList,
  AuthUsersSetStatus,
  type RequestOf,
} from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { UsersService } from './users.service';

@Controller()
export class UsersHandlers {
  constructor(private readonly users: UsersService) {}

  @Handles(AuthUsersCreate)
  create(@Payload() req: RequestOf<typeof AuthUsersCreate>, @CallContext() ctx: RequestContext) {
    return this.users.create(ctx, req);
  }

  @Handles(AuthUsersGet)
  get(@Payload() req: RequestOf<typeof AuthUsersGet>, @CallContext() ctx: RequestContext) {
    return this.users.get(ctx, req.id);
  }

  @Handles(AuthUsersList)
  list(@Payload() req: RequestOf<typeof AuthUsersList>, @CallContext() ctx: RequestContext) {
    return this.users.list(ctx, req);
  }

  @Handles(AuthUsersSetStatus)
  setStatus(
    @Payload() req: RequestOf<typeof AuthUsersSetStatus>,
    @CallContext() ctx: RequestContext,
  ) {
    return this.users.setStatus(ctx, req.id, req.status);
  }
}
