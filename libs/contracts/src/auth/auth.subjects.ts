import { z } from 'zod';
import { event, subject } from '../subject';
import {
  ApiKeyIdRequest,
  ApiKeyList,
  ApiKeyPrincipal,
  ApiKeyRevoked,
  ApiKeyView,
  AuthHealth,
  CreateApiKeyRequest,
  CreateRoleRequest,
  CreateServiceAccountRequest,
  CreateUserRequest,
  CreatedApiKey,
  Jwks,
  ListRolesRequest,
  ListUsersRequest,
  LoginRequest,
  LogoutReply,
  RefreshRequest,
  RoleBindingReply,
  RoleBindingRequest,
  RoleList,
  RoleNameRequest,
  RoleView,
  RotateKeysReply,
  SigningKeyRotated,
  ServiceAccountList,
  ServiceAccountView,
  SetUserStatusRequest,
  TokenPair,
  UserIdRequest,
  UserPage,
  UserView,
  VerifyApiKeyRequest,
} from './auth.schema';

const Empty = z.object({}).strict();

export const AuthLogin = subject('auth.v1.login', LoginRequest, TokenPair);
export const AuthRefresh = subject('auth.v1.refresh', RefreshRequest, TokenPair);
export const AuthLogout = subject('auth.v1.logout', RefreshRequest, LogoutReply);
export const AuthJwks = subject('auth.v1.jwks', Empty, Jwks);
export const AuthRotateKeys = subject('auth.v1.signing-keys.rotate', Empty, RotateKeysReply);

export const AuthUsersCreate = subject('auth.v1.users.create', CreateUserRequest, UserView);
export const AuthUsersGet = subject('auth.v1.users.get', UserIdRequest, UserView);
export const AuthUsersList = subject('auth.v1.users.list', ListUsersRequest, UserPage);
export const AuthUsersSetStatus = subject(
  'auth.v1.users.set-status',
  SetUserStatusRequest,
  UserView,
);

export const AuthRolesList = subject('auth.v1.roles.list', ListRolesRequest, RoleList);
export const AuthRolesCreate = subject('auth.v1.roles.create', CreateRoleRequest, RoleView);
export const AuthRolesDelete = subject('auth.v1.roles.delete', RoleNameRequest, RoleList);
export const AuthRolesGrant = subject('auth.v1.roles.grant', RoleBindingRequest, RoleBindingReply);
export const AuthRolesRevoke = subject(
  'auth.v1.roles.revoke',
  RoleBindingRequest,
  RoleBindingReply,
);

export const AuthServiceAccountsCreate = subject(
  'auth.v1.service-accounts.create',
  CreateServiceAccountRequest,
  ServiceAccountView,
);
export const AuthServiceAccountsList = subject(
  'auth.v1.service-accounts.list',
  Empty,
  ServiceAccountList,
);

export const AuthApiKeysCreate = subject(
  'auth.v1.api-keys.create',
  CreateApiKeyRequest,
  CreatedApiKey,
);
export const AuthApiKeysList = subject('auth.v1.api-keys.list', Empty, ApiKeyList);
export const AuthApiKeysRevoke = subject('auth.v1.api-keys.revoke', ApiKeyIdRequest, ApiKeyView);
export const AuthApiKeysVerify = subject(
  'auth.v1.api-keys.verify',
  VerifyApiKeyRequest,
  ApiKeyPrincipal,
);
/** Every gateway drops a revoked key from its cache at once. */
export const AuthApiKeyRevoked = event('auth.v1.events.api-key-revoked', ApiKeyRevoked);
/** Every gateway fetches the keys at once, so a token of the new key is never refused. */
export const AuthSigningKeyRotated = event('auth.v1.events.signing-key-rotated', SigningKeyRotated);

export const AuthHealthCheck = subject('auth.v1.health', Empty, AuthHealth);
