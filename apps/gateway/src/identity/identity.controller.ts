import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import {
  ApiKeyList,
  ApiKeyView,
  AuthApiKeysCreate,
  AuthApiKeysList,
  AuthApiKeysRevoke,
  AuthRolesCreate,
  AuthRolesDelete,
  AuthRolesGrant,
  AuthRolesList,
  AuthRolesRevoke,
  AuthServiceAccountsCreate,
  AuthServiceAccountsList,
  AuthUsersCreate,
  AuthUsersGet,
  AuthUsersList,
  AuthUsersSetStatus,
  CreateApiKeyRequest,
  CreateRoleRequest,
  CreateServiceAccountRequest,
  CreateUserRequest,
  CreatedApiKey,
  ListRolesRequest,
  RoleBindingReply,
  RoleBindingRequest,
  RoleList,
  RoleName,
  RoleView,
  ServiceAccountList,
  ServiceAccountView,
  UserPage,
  UserView,
  Uuid,
} from '@lattice/contracts';
import { RpcClient } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { Caller } from '../auth/call-context.decorator';
import { Requires } from '../auth/route-access';
import { Documented } from '../http/openapi';
import { ZodPipe } from '../http/zod.pipe';

const IdParam = { id: Uuid };
const RoleParam = { name: RoleName };
const UsersQuery = z.object({
  tenantId: Uuid.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
});

/** Users, roles, service accounts and API keys: everything the auth service keeps. */
@ApiTags('identity')
@ApiBearerAuth()
@Controller('v1')
export class IdentityController {
  constructor(private readonly rpc: RpcClient) {}

  @Post('users')
  @Requires('create', 'User')
  @HttpCode(201)
  @Documented({
    summary: 'Create a user',
    body: CreateUserRequest,
    response: UserView,
    status: 201,
    errors: [403, 409],
  })
  createUser(
    @Body(new ZodPipe(CreateUserRequest)) body: z.output<typeof CreateUserRequest>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(AuthUsersCreate, body, ctx);
  }

  @Get('users')
  @Requires('read', 'User')
  @Documented({ summary: 'List users, a page at a time', query: UsersQuery, response: UserPage })
  listUsers(
    @Query(new ZodPipe(UsersQuery)) query: z.output<typeof UsersQuery>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(AuthUsersList, query, ctx);
  }

  @Get('users/:id')
  @Requires('read', 'User')
  @Documented({ summary: 'Get a user', params: IdParam, response: UserView, errors: [404] })
  getUser(@Param('id', new ZodPipe(Uuid)) id: string, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuthUsersGet, { id }, ctx);
  }

  @Post('users/:id/disable')
  @Requires('update', 'User')
  @HttpCode(200)
  @Documented({
    summary: 'Disable a user: no more logins, sessions revoked',
    params: IdParam,
    response: UserView,
    errors: [403, 404],
  })
  disableUser(@Param('id', new ZodPipe(Uuid)) id: string, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuthUsersSetStatus, { id, status: 'disabled' }, ctx);
  }

  @Post('users/:id/enable')
  @Requires('update', 'User')
  @HttpCode(200)
  @Documented({
    summary: 'Enable a user again',
    params: IdParam,
    response: UserView,
    errors: [403, 404],
  })
  enableUser(@Param('id', new ZodPipe(Uuid)) id: string, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuthUsersSetStatus, { id, status: 'active' }, ctx);
  }

  @Get('roles')
  @Requires('read', 'Role')
  @Documented({
    summary: 'The roles this tenant can grant',
    query: ListRolesRequest,
    response: RoleList,
  })
  listRoles(
    @Query(new ZodPipe(ListRolesRequest)) query: z.output<typeof ListRolesRequest>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(AuthRolesList, query, ctx);
  }

  @Post('roles')
  @Requires('create', 'Role')
  @HttpCode(201)
  @Documented({
    summary: 'Define a custom role from permissions you hold',
    body: CreateRoleRequest,
    response: RoleView,
    status: 201,
    errors: [403, 409],
  })
  createRole(
    @Body(new ZodPipe(CreateRoleRequest)) body: z.output<typeof CreateRoleRequest>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(AuthRolesCreate, body, ctx);
  }

  @Delete('roles/:name')
  @Requires('delete', 'Role')
  @Documented({
    summary: 'Delete a custom role nobody holds',
    params: RoleParam,
    response: RoleList,
    errors: [403, 404, 409],
  })
  deleteRole(@Param('name', new ZodPipe(RoleName)) name: string, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuthRolesDelete, { name }, ctx);
  }

  @Post('role-bindings')
  @Requires('update', 'Role')
  @HttpCode(200)
  @Documented({
    summary: 'Grant a role to a user or service account (in effect from their next token)',
    body: RoleBindingRequest,
    response: RoleBindingReply,
    errors: [403, 404],
  })
  grant(
    @Body(new ZodPipe(RoleBindingRequest)) body: z.output<typeof RoleBindingRequest>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(AuthRolesGrant, body, ctx);
  }

  @Post('role-bindings/revoke')
  @Requires('update', 'Role')
  @HttpCode(200)
  @Documented({
    summary: 'Revoke a role from a user or service account',
    body: RoleBindingRequest,
    response: RoleBindingReply,
    errors: [403, 404],
  })
  revoke(
    @Body(new ZodPipe(RoleBindingRequest)) body: z.output<typeof RoleBindingRequest>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(AuthRolesRevoke, body, ctx);
  }

  @Post('service-accounts')
  @Requires('create', 'ServiceAccount')
  @HttpCode(201)
  @Documented({
    summary: 'Create a service account',
    body: CreateServiceAccountRequest,
    response: ServiceAccountView,
    status: 201,
    errors: [403, 409],
  })
  createServiceAccount(
    @Body(new ZodPipe(CreateServiceAccountRequest))
    body: z.output<typeof CreateServiceAccountRequest>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(AuthServiceAccountsCreate, body, ctx);
  }

  @Get('service-accounts')
  @Requires('read', 'ServiceAccount')
  @Documented({ summary: 'List service accounts', response: ServiceAccountList })
  listServiceAccounts(@Caller() ctx: RequestContext) {
    return this.rpc.request(AuthServiceAccountsList, {}, ctx);
  }

  @Post('api-keys')
  @Requires('create', 'ApiKey')
  @HttpCode(201)
  @Documented({
    summary: 'Create an API key (the key is shown in this answer only)',
    body: CreateApiKeyRequest,
    response: CreatedApiKey,
    status: 201,
    errors: [403, 404],
  })
  createApiKey(
    @Body(new ZodPipe(CreateApiKeyRequest)) body: z.output<typeof CreateApiKeyRequest>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(AuthApiKeysCreate, body, ctx);
  }

  @Get('api-keys')
  @Requires('read', 'ApiKey')
  @Documented({ summary: 'List API keys (never their secrets)', response: ApiKeyList })
  listApiKeys(@Caller() ctx: RequestContext) {
    return this.rpc.request(AuthApiKeysList, {}, ctx);
  }

  @Delete('api-keys/:id')
  @Requires('delete', 'ApiKey')
  @Documented({
    summary: 'Revoke an API key',
    params: IdParam,
    response: ApiKeyView,
    errors: [403, 404],
  })
  revokeApiKey(@Param('id', new ZodPipe(Uuid)) id: string, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuthApiKeysRevoke, { id }, ctx);
  }
}
