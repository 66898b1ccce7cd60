import { Body, Controller, Get, Post, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  Actor,
  AuthJwks,
  AuthLogin,
  AuthLogout,
  AuthRefresh,
  AuthRotateKeys,
  ErrorCode,
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
import { Route } from '../http/route';
import { Caller } from './call-context.decorator';

const Credentials = LoginRequest.omit({ sourceIp: true, userAgent: true });
const RefreshBody = RefreshRequest.omit({ sourceIp: true, userAgent: true });

/** What `me` answers: the caller as the services see it. */
const CallerView = z.object({
  tenantId: z.string().nullable(),
  actor: Actor.pick({ type: true, id: true, ownerId: true }),
  roles: z.array(z.string()),
  permissions: z.array(z.string()),
});

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
  @Route({
    summary: 'Sign in with email and password: an access token and a refresh token',
    permission: 'public',
    body: Credentials,
    response: TokenPair,
    errors: [ErrorCode.Unauthenticated],
  })
  login(@Body() body: z.output<typeof Credentials>, @Req() request: FastifyRequest) {
    return this.rpc.request(AuthLogin, { ...body, ...origin(request) }, anonymous(request));
  }

  @Post('v1/auth/refresh')
  @Route({
    summary: 'Swap a refresh token for a new pair (each refresh token works once)',
    permission: 'public',
    body: RefreshBody,
    response: TokenPair,
    errors: [ErrorCode.Unauthenticated],
  })
  refresh(@Body() body: z.output<typeof RefreshBody>, @Req() request: FastifyRequest) {
    return this.rpc.request(AuthRefresh, { ...body, ...origin(request) }, anonymous(request));
  }

  @Post('v1/auth/logout')
  @Route({
    summary: 'End the session of a refresh token',
    permission: 'public',
    body: RefreshBody,
    response: LogoutReply,
    errors: [ErrorCode.Unauthenticated],
  })
  logout(@Body() body: z.output<typeof RefreshBody>, @Req() request: FastifyRequest) {
    return this.rpc.request(AuthLogout, { ...body, ...origin(request) }, anonymous(request));
  }

  @Get('.well-known/jwks.json')
  @Route({
    summary: 'The public keys access tokens are signed with',
    permission: 'public',
    response: Jwks,
  })
  jwks(@Req() request: FastifyRequest) {
    return this.rpc.request(AuthJwks, {}, anonymous(request));
  }

  @Get('v1/auth/me')
  @Route({
    summary: 'Who the credentials belong to, and what they allow',
    permission: 'authenticated',
    response: CallerView,
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
  @Route({
    summary: 'Start signing with a new key; the old one verifies until its tokens expire',
    permission: { action: 'manage', resource: 'SigningKey' },
    response: RotateKeysReply,
  })
  rotate(@Caller() ctx: RequestContext) {
    return this.rpc.request(AuthRotateKeys, {}, ctx);
  }
}
