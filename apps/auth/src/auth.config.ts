import { z } from 'zod';
import {
  commonConfig,
  databaseConfig,
  integer,
  port,
  seconds,
  variable,
  type ConfigOf,
} from '@lattice/config';
import { secretsConfig } from '@lattice/secrets';

export const authConfigSpec = {
  ...commonConfig,
  ...databaseConfig,
  ...secretsConfig,
  AUTH_HTTP_PORT: variable(port(8082), 'Port of the auth service health and metrics endpoints.'),
  AUTH_ISSUER: variable(
    z.string().min(1).max(200).default('https://lattice.local/auth'),
    'The `iss` of every access token; the gateway accepts no other.',
  ),
  AUTH_AUDIENCE: variable(
    z.string().min(1).max(200).default('lattice-api'),
    'The `aud` of every access token; the gateway accepts no other.',
  ),
  AUTH_ACCESS_TOKEN_TTL_SECONDS: variable(seconds(900, 86_400), 'Lifetime of an access token.'),
  AUTH_REFRESH_TOKEN_TTL_SECONDS: variable(
    seconds(30 * 86_400, 365 * 86_400),
    'Lifetime of a refresh token (each use replaces it with a new one).',
  ),
  AUTH_REFRESH_REUSE_GRACE_SECONDS: variable(
    integer(0, 60, 5),
    'How long a just-replaced refresh token may still be used, for clients that refresh twice at once.',
  ),
  AUTH_LOCKOUT_THRESHOLD: variable(
    integer(1, 100, 5),
    'Failed logins in a row that lock an account.',
  ),
  AUTH_LOCKOUT_SECONDS: variable(seconds(900, 86_400), 'How long a locked account stays locked.'),
  AUTH_SCRYPT_LOG_N: variable(
    integer(10, 20, 17),
    'log2 of the scrypt cost for new password hashes (OWASP: 17, with r=8, p=1).',
  ),
  AUTH_SIGNING_KEY_ROTATION_DAYS: variable(
    integer(1, 365, 30),
    'Age at which the token signing key is replaced by a new one.',
  ),
  AUTH_ADMIN_EMAIL: variable(
    z.email().optional(),
    'With AUTH_ADMIN_PASSWORD: the platform admin created on first start, when there is none.',
  ),
  AUTH_ADMIN_PASSWORD: variable(
    z.string().min(12).max(256).optional(),
    'Password of that first platform admin.',
    { sensitive: true },
  ),
};

export type AuthConfig = ConfigOf<typeof authConfigSpec>;
