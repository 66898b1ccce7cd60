import { Body, Controller, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
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
  ErrorCode,
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
import { Route } from '../http/route';

const IdParam = { id: Uuid };
const RoleParam = { name: RoleName };
const UsersQuery = z.object({
  tenantId: Uuid.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
});

/** Users, roles, service accounts and API keys: everything the auth service keeps. */
@ApiTags('identity')
@Controller('v1')
export class IdentityController {
  constructor(private readonly rpc: RpcClient) {}

  @Post('users')
  @Route({
    summary: 'Create a user',
    permission: { action: 'create', resource: 'User' },
    body: CreateUserRequest,
    response: UserView,
    status: 201,
    errors: [ErrorCode.Conflict],
  })
  createUser(@Body() body: z.output<typeof CreateUserRequest>, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuthUsersCreate, body, ctx);
  }

  @Get('users')
  @Route({
    summary: 'List users, a page at a time',
    permission: { action: 'read', resource: 'User' },
    query: UsersQuery,
    response: UserPage,
  })
  listUsers(@Query() query: z.output<typeof UsersQuery>, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuthUsersList, query, ctx);
  }

  @Get('users/:id')
  @Route({
    summary: 'Get a user',
    permission: { action: 'read', resource: 'User' },
    params: IdParam,
    response: UserView,
    errors: [ErrorCode.NotFound],
  })
  getUser(@Param('id') id: string, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuthUsersGet, { id }, ctx);
  }

  @Post('users/:id/disable')
  @Route({
    summary: 'Disable a user: no more logins, sessions revoked',
    permission: { action: 'update', resource: 'User' },
    params: IdParam,
    response: UserView,
    errors: [ErrorCode.NotFound],
  })
  disableUser(@Param('id') id: string, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuthUsersSetStatus, { id, status: 'disabled' }, ctx);
  }

  @Post('users/:id/enable')
  @Route({
    summary: 'Enable a user again',
    permission: { action: 'update', resource: 'User' },
    params: IdParam,
    response: UserView,
    errors: [ErrorCode.NotFound],
  })
  enableUser(@Param('id') id: string, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuthUsersSetStatus, { id, status: 'active' }, ctx);
  }

  @Get('roles')
  @Route({
    summary: 'The roles this tenant can grant',
    permission: { action: 'read', resource: 'Role' },
    query: ListRolesRequest,
    response: RoleList,
  })
  listRoles(@Query() query: z.output<typeof ListRolesRequest>, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuthRolesList, query, ctx);
  }

  @Post('roles')
  @Route({
    summary: 'Define a custom role from permissions you hold',
    permission: { action: 'create', resource: 'Role' },
    body: CreateRoleRequest,
    response: RoleView,
    status: 201,
    errors: [ErrorCode.Conflict],
  })
  createRole(@Body() body: z.output<typeof CreateRoleRequest>, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuthRolesCreate, body, ctx);
  }

  @Delete('roles/:name')
  @Route({
    summary: 'Delete a custom role nobody holds',
    permission: { action: 'delete', resource: 'Role' },
    params: RoleParam,
    response: RoleList,
    errors: [ErrorCode.NotFound, ErrorCode.Conflict],
  })
  deleteRole(@Param('name') name: string, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuthRolesDelete, { name }, ctx);
  }

  @Post('role-bindings')
  @Route({
    summary: 'Grant a role to a user or service account (in effect from their next token)',
    permission: { action: 'update', resource: 'Role' },
    body: RoleBindingRequest,
    response: RoleBindingReply,
    errors: [ErrorCode.NotFound],
  })
  grant(@Body() body: z.output<typeof RoleBindingRequest>, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuthRolesGrant, body, ctx);
  }

  @Post('role-bindings/revoke')
  @Route({
    summary: 'Revoke a role from a user or service account',
    permission: { action: 'update', resource: 'Role' },
    body: RoleBindingRequest,
    response: RoleBindingReply,
    errors: [ErrorCode.NotFound],
  })
  revoke(@Body() body: z.output<typeof RoleBindingRequest>, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuthRolesRevoke, body, ctx);
  }

  @Post('service-accounts')
  @Route({
    summary: 'Create a service account',
    permission: { action: 'create', resource: 'ServiceAccount' },
    body: CreateServiceAccountRequest,
    response: ServiceAccountView,
    status: 201,
    errors: [ErrorCode.Conflict],
  })
  createServiceAccount(
    @Body() body: z.output<typeof CreateServiceAccountRequest>,
    @Caller() ctx: RequestContext,
  ) {
    return this.rpc.request(AuthServiceAccountsCreate, body, ctx);
  }

  @Get('service-accounts')
  @Route({
    summary: 'List service accounts',
    permission: { action: 'read', resource: 'ServiceAccount' },
    response: ServiceAccountList,
  })
  listServiceAccounts(@Caller() ctx: RequestContext) {
    return this.rpc.request(AuthServiceAccountsList, {}, ctx);
  }

  @Post('api-keys')
  @Route({
    summary: 'Create an API key (the key is shown in this answer only)',
    permission: { action: 'create', resource: 'ApiKey' },
    body: CreateApiKeyRequest,
    response: CreatedApiKey,
    status: 201,
    errors: [ErrorCode.NotFound],
  })
  createApiKey(@Body() body: z.output<typeof CreateApiKeyRequest>, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuthApiKeysCreate, body, ctx);
  }

  @Get('api-keys')
  @Route({
    summary: 'List API keys (never their secrets)',
    permission: { action: 'read', resource: 'ApiKey' },
    response: ApiKeyList,
  })
  listApiKeys(@Caller() ctx: RequestContext) {
    return this.rpc.request(AuthApiKeysList, {}, ctx);
  }

  @Delete('api-keys/:id')
  @Route({
    summary: 'Revoke an API key',
    permission: { action: 'delete', resource: 'ApiKey' },
    params: IdParam,
    response: ApiKeyView,
    errors: [ErrorCode.NotFound],
  })
  revokeApiKey(@Param('id') id: string, @Caller() ctx: RequestContext) {
    return this.rpc.request(AuthApiKeysRevoke, { id }, ctx);
  }
}
