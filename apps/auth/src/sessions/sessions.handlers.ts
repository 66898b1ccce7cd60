import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  AuthHealthCheck,
  AuthJwks,
  AuthLogin,
  AuthLogout,
  AuthRefresh,
  AuthRotateKeys,
  type ReplyOf,
  type RequestOf,
} from '@lattice/contracts';
import { actingTenant } from '@lattice/authz';
import { CallContext, Handles } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { SigningKeys } from '../signing-keys/signing-keys.service';
import { SessionsService } from './sessions.service';

@Controller()
export class SessionsHandlers {
  constructor(
    private readonly sessions: SessionsService,
    private readonly keys: SigningKeys,
  ) {}

  @Handles(AuthLogin)
  login(@Payload() req: RequestOf<typeof AuthLogin>, @CallContext() ctx: RequestContext) {
    return this.sessions.login(req, ctx.requestId);
  }

  @Handles(AuthRefresh)
  refresh(@Payload() req: RequestOf<typeof AuthRefresh>, @CallContext() ctx: RequestContext) {
    return this.sessions.refresh(req, ctx.requestId);
  }

  @Handles(AuthLogout)
  async logout(@Payload() req: RequestOf<typeof AuthLogout>, @CallContext() ctx: RequestContext) {
    return { revoked: await this.sessions.logout(req, ctx.requestId) };
  }

  @Handles(AuthJwks)
  jwks() {
    return this.keys.jwks();
  }

  @Handles(AuthRotateKeys)
  rotate(@CallContext() ctx: RequestContext) {
    actingTenant(ctx, { action: 'manage', resource: 'SigningKey', reach: 'every-tenant' });
    return this.keys.rotate();
  }

  @Handles(AuthHealthCheck)
  health(): ReplyOf<typeof AuthHealthCheck> {
    return { service: 'auth', status: 'ok' };
  }
}
