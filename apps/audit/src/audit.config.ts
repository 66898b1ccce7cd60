import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
import { ServiceName } from '@lattice/contracts';
import { secretsConfig } from '@lattice/secrets';

/** An Ed25519 private key given inline as PEM, or as the path of a PEM file. */
const ed25519Key = z.string().transform((value, ctx): KeyObject => {
  try {
    const pem = value.trimStart().startsWith('-----BEGIN') ? value : readFileSync(value, 'utf8');
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType === 'ed25519') return key;
    ctx.addIssue({ code: 'custom', message: 'must be an Ed25519 private key' });
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a PEM private key, or the path of one' });
  }
  return z.NEVER;
});

export const auditConfigSpec = {
  ...commonConfig,
  ...databaseConfig,
  ...secretsConfig,
  AUDIT_HTTP_PORT: variable(port(8083), 'Port of the audit service health and metrics endpoints.'),
  AUDIT_CHECKPOINT_KEY: variable(
    ed25519Key,
    'Ed25519 private key (PEM, or the path of a PEM file) that signs chain checkpoints.',
    { sensitive: true },
  ),
  AUDIT_CHECKPOINT_INTERVAL_SECONDS: variable(
    seconds(300),
    'How often each tenant chain that grew gets a signed checkpoint.',
  ),
  AUDIT_BATCH_SIZE: variable(
    integer(1, 50_000, 2_000),
    'Most events taken from the stream together; each tenant’s share is written in one statement. ' +
      'Larger batches cost less per event and hold more in memory: up to (batches in flight + 1) ' +
      'batches of events are in hand at once.',
  ),
  AUDIT_BATCHES_IN_FLIGHT: variable(
    integer(1, 16, 2),
    'Batches written at once: the next is read and sealed while the one before is written. ' +
      'A tenant’s events still join its chain one batch after another, in the order taken.',
  ),
  AUDIT_ACK_WAIT_SECONDS: variable(
    seconds(30, 3_600),
    'How long JetStream waits for an ack before it delivers an event again.',
  ),
  AUDIT_RETENTION_INTERVAL_SECONDS: variable(
    seconds(3_600),
    'How often events past their tenant’s retention are removed.',
  ),
  AUDIT_PLATFORM_RETENTION_DAYS: variable(
    integer(1, 3_650, 365),
    'Days the platform tenant’s own events are kept.',
  ),
  AUDIT_GDPR_WAIT_MS: variable(
    integer(100, 30_000, 2_000),
    'How long a subject access or erasure request waits for every service to answer.',
  ),
  AUDIT_GDPR_SERVICES: variable(
    z
      .string()
      .default('audit,auth,rag')
      .transform((v) => [...new Set(v.split(',').map((s) => s.trim()))].filter(Boolean))
      .pipe(z.array(ServiceName).min(1)),
    'Services (comma-separated) that hold personal data and must answer subject access and ' +
      'erasure; while one of them does not, the request fails (503) and may be repeated.',
  ),
};

export type AuditConfig = ConfigOf<typeof auditConfigSpec>;
