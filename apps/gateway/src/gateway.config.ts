import { z } from 'zod';
import { commonConfig, port, variable, type ConfigOf } from '@lattice/config';

export const gatewayConfigSpec = {
  ...commonConfig,
  GATEWAY_PORT: variable(port(8080), 'Port the HTTP API listens on.'),
  GATEWAY_HOST: variable(z.string().min(1).default('0.0.0.0'), 'Address the HTTP API binds to.'),
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
  GATEWAY_TENANT_CACHE_TTL_SECONDS: variable(
    z.coerce.number().int().min(0).max(3_600).default(30),
    'Longest a tenant stays in the gateway cache if no change event evicts it first.',
  ),
  LATTICE_BOOTSTRAP_TOKEN: variable(
    z.string().min(32, 'must be at least 32 characters'),
    'Admin token accepted on /v1 until the auth service issues tokens.',
    { sensitive: true },
  ),
};

export type GatewayConfig = ConfigOf<typeof gatewayConfigSpec>;
