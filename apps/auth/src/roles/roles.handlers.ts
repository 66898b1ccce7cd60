import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  AuthRolesCreate,
  AuthRolesDelete,
  AuthRolesGrant,
  AuthRolesList,
  AuthRolesRevoke,
  type RequestOf,
} from '@lattice/contracts';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { RolesService } from './roles.service';

@Controller()
export class RolesHandlers {
  constructor(private readonly roles: RolesService) {}

  @Handles(AuthRolesList)
  async list(@Payload() req: RequestOf<typeof AuthRolesList>, @CallContext() ctx: RequestContext) {
    return { items: await this.roles.list(ctx, req.tenantId) };
  }

  @Handles(AuthRolesCreate)
  create(@Payload() req: RequestOf<typeof AuthRolesCreate>, @CallContext() ctx: RequestContext) {
    return this.roles.create(ctx, req);
  }

  @Handles(AuthRolesDelete)
  async delete(
    @Payload() req: RequestOf<typeof AuthRolesDelete>,
    @CallContext() ctx: RequestContext,
  ) {
    return { items: await this.roles.delete(ctx, req.name) };
  }

  @Handles(AuthRolesGrant)
  grant(@Payload() req: RequestOf<typeof AuthRolesGrant>, @CallContext() ctx: RequestContext) {
    return this.roles.grant(ctx, req);
  }

  @Handles(AuthRolesRevoke)
  revoke(@Payload() req: RequestOf<typeof AuthRolesRevoke>, @CallContext() ctx: RequestContext) {
    return this.roles.revoke(ctx, req);
  }
}
