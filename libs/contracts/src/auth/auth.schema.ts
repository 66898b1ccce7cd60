import { z } from 'zod';
import { Uuid, page } from '../common/common.schema';
import { storableJson, storedText, text } from '../common/text.schema';
import { PermissionString } from './permission.schema';

const Email = z
  .email()
  .max(254)
  .transform((e) => e.toLowerCase());
/** Long enough to matter, short enough that hashing it cannot be used to tie up the service. */
const Password = text({ max: 256 }).min(12, 'passwords have at least 12 characters');
export const RoleName = z
  .string()
  .min(2)
  .max(64)
  .regex(/^[a-z][a-z0-9-]*$/, 'role names are lower-case words joined by hyphens');
const Origin = {
  sourceIp: z.union([z.ipv4(), z.ipv6()]).optional(),
  // a header, kept as sent: it reaches the audit trail, which escapes what it cannot store
  userAgent: storedText(512).optional(),
};

export const LoginRequest = z
  .object({
    tenant: text({ min: 1, max: 63 }),
    email: Email,
    password: text({ min: 1, max: 256 }),
    ...Origin,
  })
  .strict();

export const TokenPair = z.object({
  accessToken: storedText(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int(),
  refreshToken: storedText(),
  refreshExpiresIn: z.number().int(),
});
export type TokenPair = z.infer<typeof TokenPair>;

export const RefreshRequest = z
  .object({ refreshToken: text({ min: 1, max: 512 }), ...Origin })
  .strict();
export const LogoutReply = z.object({ revoked: z.boolean() });

export const Jwks = z.object({ keys: z.array(storableJson(z.record(storedText(), z.unknown()))) });
export type Jwks = z.infer<typeof Jwks>;
export const RotateKeysReply = z.object({ kid: storedText(), retired: z.array(storedText()) });
export const SigningKeyRotated = z.object({ kid: text({ min: 1, max: 100 }) });

export const USER_STATUSES = ['active', 'locked', 'disabled'] as const;
export const UserView = z.object({
  id: Uuid,
  tenantId: Uuid,
  email: storedText(),
  displayName: storedText().nullable(),
  status: z.enum(USER_STATUSES),
  roles: z.array(storedText()),
  lockedUntil: storedText().nullable(),
  lastLoginAt: storedText().nullable(),
  createdAt: storedText(),
});
export type UserView = z.infer<typeof UserView>;

export const CreateUserRequest = z
  .object({
    /** Platform operators may name the tenant; everyone else creates users in their own. */
    tenantId: Uuid.optional(),
    email: Email,
    password: Password,
    displayName: text({ min: 1, max: 200 }).optional(),
    roles: z.array(RoleName).max(20).default([]),
  })
  .strict();
export const UserIdRequest = z.object({ id: Uuid }).strict();
export const ListUsersRequest = z
  .object({
    tenantId: Uuid.optional(),
    limit: z.number().int().min(1).max(100).default(20),
    cursor: text({ max: 512 }).optional(),
  })
  .strict();
export const UserPage = page(UserView);
export const SetUserStatusRequest = z
  .object({ id: Uuid, status: z.enum(['active', 'disabled']) })
  .strict();

export const RoleView = z.object({
  name: storedText(),
  description: storedText(),
  system: z.boolean(),
  permissions: z.array(storedText()),
});
export type RoleView = z.infer<typeof RoleView>;
export const ListRolesRequest = z.object({ tenantId: Uuid.optional() }).strict();
export const RoleList = z.object({ items: z.array(RoleView) });
export const CreateRoleRequest = z
  .object({
    name: RoleName,
    description: text({ max: 500, multiline: true }).default(''),
    permissions: z.array(PermissionString).min(1).max(100),
  })
  .strict();
export const RoleNameRequest = z.object({ name: RoleName }).strict();
export const RoleBindingRequest = z
  .object({ principalId: Uuid, role: RoleName, tenantId: Uuid.optional() })
  .strict();
export const RoleBindingReply = z.object({ principalId: Uuid, roles: z.array(storedText()) });

export const ServiceAccountView = z.object({
  id: Uuid,
  tenantId: Uuid,
  name: storedText(),
  roles: z.array(storedText()),
  createdAt: storedText(),
});
export const CreateServiceAccountRequest = z
  .object({
    name: RoleName,
    roles: z.array(RoleName).max(20).default(['service-account']),
  })
  .strict();
export const ServiceAccountList = z.object({ items: z.array(ServiceAccountView) });

export const ApiKeyView = z.object({
  id: Uuid,
  tenantId: Uuid,
  name: storedText(),
  prefix: storedText(),
  ownerType: z.enum(['user', 'service-account']),
  ownerId: Uuid,
  permissions: z.array(storedText()),
  expiresAt: storedText().nullable(),
  lastUsedAt: storedText().nullable(),
  revokedAt: storedText().nullable(),
  createdAt: storedText(),
});
export type ApiKeyView = z.infer<typeof ApiKeyView>;
export const CreateApiKeyRequest = z
  .object({
    name: text({ min: 1, max: 100 }),
    /** A service account of the caller's tenant; the caller's own key when left out. */
    serviceAccountId: Uuid.optional(),
    /** At most what the owner holds; all of it when left out. */
    permissions: z.array(PermissionString).min(1).max(100).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export const CreatedApiKey = z.object({
  /** The whole key, shown this once and never again. */
  key: storedText(),
  apiKey: ApiKeyView,
});
export const ApiKeyIdRequest = z.object({ id: Uuid }).strict();
export const ApiKeyList = z.object({ items: z.array(ApiKeyView) });
export const VerifyApiKeyRequest = z.object({ key: text({ min: 1, max: 200 }) }).strict();
/** Who an API key speaks for, and what it may do now. */
export const ApiKeyPrincipal = z.object({
  keyId: Uuid,
  tenantId: Uuid,
  ownerType: z.enum(['user', 'service-account']),
  ownerId: Uuid,
  roles: z.array(storedText()),
  permissions: z.array(storedText()),
  expiresAt: storedText().nullable(),
});
export type ApiKeyPrincipal = z.infer<typeof ApiKeyPrincipal>;
/** Published on core NATS when a key stops working, so caches drop it at once. */
export const ApiKeyRevoked = z.object({ keyId: Uuid, prefix: storedText() });

export const AuthHealth = z.object({ service: z.literal('auth'), status: z.literal('ok') });
