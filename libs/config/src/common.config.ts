import { z } from 'zod';
import { variable } from './config';

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
    'Secret shared by the services; keys that sign request context and cursors derive from it.',
    { sensitive: true },
  ),
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
