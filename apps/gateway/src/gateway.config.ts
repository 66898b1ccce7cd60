import { z } from 'zod';
import { commonConfig, integer, port, variable, type ConfigOf } from '@lattice/config';

export const gatewayConfigSpec = {
  ...commonConfig,
  GATEWAY_PORT: variable(port(8080), 'Port the HTTP API listens on.'),
  GATEWAY_HOST: variable(
    z.string().min(1).optional(),
    'Address the HTTP API binds to; LATTICE_BIND_HOST when unset.',
  ),
  GATEWAY_BODY_LIMIT_BYTES: variable(
    z.coerce
      .number()
      .int()
      .min(1_024)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
    'Largest request body accepted; larger ones get 413.',
  ),
  GATEWAY_TRUST_PROXY: variable(
    z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    'Trust X-Forwarded-* headers from a load balancer in front of the gateway.',
  ),
  GATEWAY_RAG_QUERY_TIMEOUT_SECONDS: variable(
    integer(5, 900, 150),
    'Longest the gateway waits for a RAG answer (JSON or stream); keep it above RAG_ANSWER_TIMEOUT_MS.',
  ),
  GATEWAY_TENANT_CACHE_TTL_SECONDS: variable(
    integer(1, 3_600, 30),
    'Longest a tenant stays in the gateway cache if no change event evicts it first.',
  ),
  AUTH_ISSUER: variable(
    z.string().min(1).max(200).default('https://lattice.local/auth'),
    'The only `iss` accepted on access tokens (the auth service signs with the same value).',
  ),
  AUTH_AUDIENCE: variable(
    z.string().min(1).max(200).default('lattice-api'),
    'The only `aud` accepted on access tokens.',
  ),
  GATEWAY_JWKS_MIN_REFETCH_SECONDS: variable(
    integer(0, 3_600, 10),
    'Least time between two fetches of the signing keys prompted by an unknown key id.',
  ),
  GATEWAY_API_KEY_CACHE_SECONDS: variable(
    integer(0, 300, 10),
    'Longest an API key stays cached at the gateway; revocations evict at once over NATS.',
  ),
  REDIS_URL: variable(
    z.url({ protocol: /^rediss?$/ }).optional(),
    'Redis for rate-limit counters shared by every gateway replica; without it, each counts alone.',
    { sensitive: true },
  ),
};

export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;
