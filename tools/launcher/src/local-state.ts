import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_NAMES } from '@lattice/contracts';
import { newContextPrivateKey } from '@lattice/request-context';
import { KeyRing } from '@lattice/secrets';
import { withNatsPasswords } from './nats-authorization';

export interface LocalSecrets {
  internalSecret: string;
  kek: string;
  adminPassword: string;
  appPassword: string;
  postgresPassword: string;
  /** Ed25519 private key (PEM) that signs the audit trail's checkpoints. */
  auditCheckpointKey: string;
  /** Each service's Ed25519 private key (PEM) for request context, by service. */
  contextKeys: Record<string, string>;
  /** Each service's password on the launcher's own NATS server, by service. */
  natsPasswords: Record<string, string>;
}

/** A context key for each declared service that has none yet; the ones it has are kept. */
function withContextKeys(kept: Record<string, string> = {}): Record<string, string> {
  const keys = { ...kept };
  for (const service of SERVICE_NAMES) keys[service] ??= newContextPrivateKey();
  return keys;
}

export function newCheckpointKey(): string {
  return generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

/**
 * Secrets for a platform run on one machine, generated on first start and kept (mode 600) in
 * the state folder so that a restart keeps the same keys, admin password and database passwords.
 */
export function loadOrCreateSecrets(stateDir: string): LocalSecrets {
  // traversable (not listable) by others: embedded PostgreSQL runs as its own user when we are root
  mkdirSync(stateDir, { recursive: true, mode: 0o711 });
  const file = join(stateDir, 'secrets.json');
  const kept = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalSecrets>)
    : {};
  // a state folder from before a secret existed gets the new one and keeps the rest
  const secrets: LocalSecrets = {
    internalSecret: randomBytes(32).toString('base64url'),
    kek: KeyRing.generateSpec(),
    adminPassword: randomBytes(15).toString('base64url'),
    appPassword: randomBytes(18).toString('base64url'),
    postgresPassword: randomBytes(18).toString('base64url'),
    auditCheckpointKey: newCheckpointKey(),
    ...kept,
    // a service added since the last start gets its own key and password
    contextKeys: withContextKeys(kept.contextKeys),
    natsPasswords: withNatsPasswords(kept.natsPasswords),
  };
  if (JSON.stringify(kept) === JSON.stringify(secrets)) return secrets;
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}
