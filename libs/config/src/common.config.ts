import { z } from 'zod';
import {
  ContextKeyError,
  parseContextPrivateKey,
  parseContextPublicKeys,
} from '@lattice/request-context';
import { variable } from './config';

/** A string the key parser reads, or an issue with the parser's reason. */
const keyText = (parse: (text: string) => unknown) =>
  z.string().superRefine((text, ctx) => {
    try {
      parse(text);
    } catch (error) {
      if (!(error instanceof ContextKeyError)) throw error;
      ctx.addIssue({ code: 'custom', message: error.message });
    }
  });

const url = (protocols: string[]) => z.url({ protocol: new RegExp(`^(${protocols.join('|')})$`) });

export const port = (fallback: number) =>
  z.coerce.number().int().min(0).max(65535).default(fallback);

/** An address to listen on: an IP address or a host name. */
export const bindHost = (fallback: string) =>
  z
    .union([z.ipv4(), z.ipv6(), z.hostname()], 'must be an IP address or a host name')
    .default(fallback);

export const logFormat = z.enum(['json', 'pretty']);

/** Variables every service reads. */
export const commonConfig = {
  NATS_URL: variable(
    url(['nats', 'tls']).default('nats://127.0.0.1:4222'),
    'NATS server URL (JetStream enabled).',
  ),
  LATTICE_NAMESPACE: variable(
    z
      .string()
      .regex(/^[a-zA-Z0-9_-]{1,40}$/)
      .optional(),
    'Prefix for every NATS subject and stream, so several installations share one NATS.',
  ),
  LATTICE_INTERNAL_SECRET: variable(
    z.string().min(32, 'must be at least 32 characters'),
    'Secret shared by the services; the keys that sign cursors and lookup hashes derive from it.',
    { sensitive: true },
  ),
  LATTICE_CONTEXT_KEY: variable(
    keyText((text) => parseContextPrivateKey(text, undefined)),
    "The service's own Ed25519 private key (PKCS#8 PEM or JWK): the gateway signs its callers' request context with it, any other service only its own service context.",
    { sensitive: true },
  ),
  LATTICE_CONTEXT_PUBLIC_KEYS: variable(
    keyText(parseContextPublicKeys),
    'JWKS of the Ed25519 public keys that may vouch for request context, each under the kid of its service (gateway, scheduler, …).',
  ),
  LATTICE_NATS_USER: variable(
    z.string().min(1).optional(),
    "The service's NATS user, whose rights the server limits to what the service declares (libs/contracts/src/access).",
  ),
  LATTICE_NATS_PASSWORD: variable(z.string().min(1).optional(), 'Password of LATTICE_NATS_USER.', {
    sensitive: true,
  }),
  LOG_LEVEL: variable(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    'Log level.',
  ),
  LATTICE_LOG_FORMAT: variable(
    logFormat.optional(),
    'Log lines as JSON, or readable ones for a person; unset, readable on a terminal, else JSON.',
  ),
  LATTICE_BIND_HOST: variable(
    bindHost('0.0.0.0'),
    'Address the service listens on (all interfaces by default, as a container needs).',
  ),
};

export const databaseConfig = {
  DATABASE_URL: variable(
    url(['postgres', 'postgresql']),
    'PostgreSQL URL of a role that owns the service schema; used for migrations.',
    { sensitive: true },
  ),
  DATABASE_APP_PASSWORD: variable(
    z.string().optional(),
    'Password of the service runtime role (lattice_<service>), which has no BYPASSRLS.',
    { sensitive: true },
  ),
  DATABASE_POOL_SIZE: variable(
    z.coerce.number().int().min(1).max(200).default(10),
    'Connections per service.',
  ),
};
