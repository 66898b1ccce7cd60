import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  AuthJwks,
  AuthLogin,
  AuthLogout,
  AuthRefresh,
  AuthRotateKeys,
  Jwks,
  LoginRequest,
  LogoutReply,
  RefreshRequest,
  RotateKeysReply,
  TokenPair,
} from '@lattice/contracts';
import { RpcClient } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import type { FastifyRequest } from 'fastify';
import { Documented } from '../http/openapi';
import { ZodPipe } from '../http/zod.pipe';
import { Caller } from './call-context.decorator';
import { Authenticated, Public, Requires } from './route-access';

const Credentials = LoginRequest.omit({ sourceIp: true, userAgent: true });
const RefreshBody = RefreshRequest.omit({ sourceIp: true, userAgent: true });

const anonymous = (request: FastifyRequest): RequestContext => ({
  tenantId: null,
  actor: { type: 'anonymous', id: 'anonymous', roles: [] },
  requestId: request.id ?? randomUUID(),
});

/** Where a call came from, for the audit trail. */
const origin = (request: FastifyRequest) => ({
  sourceIp: request.ip,
  userAgent: request.headers['user-agent']?.slice(0, 512),
});

@ApiTags('auth')
@Controller()
export class AuthController {
  constructor(private readonly rpc: RpcClient) {}

  @Post('v1/auth/login')
  @Public()
  @HttpCode(200)
  @Documented({
    summary: 'Sign in with email and password: an access token and a refresh token',
    body: Credentials,
    response: TokenPair,
    errors: [429],
  })
  login(
    @Body(new ZodPipe(Credentials)) body: z.output<typeof Credentials>,
    @Req() request: FastifyRequest,
  ) {
    return this.rpc.request(AuthLogin, { ...body, ...origin(request) }, anonymous(request));
  }

  @Post('v1/auth/refresh')
  @Public()
  @HttpCode(200)
  @Documented({
    summary: 'Swap a refresh token for a new pair (each refresh token works once)',
    body: RefreshBody,
    response: TokenPair,
  })
  refresh(
    @Body(new ZodPipe(RefreshBody)) body: z.output<typeof RefreshBody>,
    @Req() request: FastifyRequest,
  ) {
    return this.rpc.request(AuthRefresh, { ...body, ...origin(request) }, anonymous(request));
  }

  @Post('v1/auth/logout')
  @Public()
  @HttpCode(200)
  @Documented({
    summary: 'End the session of a refresh token',
    body: RefreshBody,
    response: LogoutReply,
  })
  logout(
    @Body(new ZodPipe(RefreshBody)) body: z.output<typeof RefreshBody>,
    @Req() request: FastifyRequest,
  ) {
    return this.rpc.request(AuthLogout, { ...body, ...origin(request) }, anonymous(request));
  }

  @Get('.well-known/jwks.json')
  @Public()
  @Documented({ summary: 'The public keys access tokens are signed with', response: Jwks })
  jwks(@Req() request: FastifyRequest) {
    return this.rpc.request(AuthJwks, {}, anonymous(request));
  }

  @Get('v1/auth/me')
  @Authenticated()
  @Documented({
    summary: 'Who the credentials belong to, and what they allow',
    response: z.object({}),
  })
  me(@Caller() ctx: RequestContext) {
    return {
      tenantId: ctx.tenantId,
      actor: { type: ctx.actor.type, id: ctx.actor.id, ownerId: ctx.actor.ownerId },
      roles: ctx.actor.roles,
      permissions: ctx.actor.permissions ?? [],
    };
  }

  @Post('v1/auth/signing-keys/rotate')
  @Requires('manage', 'SigningKey')
  @HttpCode(200)
  @Documented({
    summary: 'Start signing with a new key; the old one verifies until its tokens expire',
    response: RotateKeysReply,
    errors: [403],
  })
  rotate(@Caller() ctx: RequestContext) {
    return this.rpc.request(AuthRotateKeys, {}, ctx);
  }
}
