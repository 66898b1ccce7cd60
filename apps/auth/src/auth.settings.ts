import type { AuthConfig } from './auth.config';

export const AUTH_SETTINGS = Symbol('AUTH_SETTINGS');

/** The auth service's policy knobs, as its services need them. */
export interface AuthSettings {
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  refreshReuseGraceSeconds: number;
  lockoutThreshold: number;
  lockoutSeconds: number;
  keyRotationDays: number;
}

export function authSettings(config: AuthConfig): AuthSettings {
  return {
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    accessTokenTtlSeconds: config.AUTH_ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: config.AUTH_REFRESH_TOKEN_TTL_SECONDS,
    refreshReuseGraceSeconds: config.AUTH_REFRESH_REUSE_GRACE_SECONDS,
    lockoutThreshold: config.AUTH_LOCKOUT_THRESHOLD,
    lockoutSeconds: config.AUTH_LOCKOUT_SECONDS,
    keyRotationDays: config.AUTH_SIGNING_KEY_ROTATION_DAYS,
  };
}
