import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyRing } from '@lattice/secrets';

export interface LocalSecrets {
  internalSecret: string;
  kek: string;
  adminPassword: string;
  appPassword: string;
  postgresPassword: string;
  /** Ed25519 private key (PEM) that signs the audit trail's checkpoints. */
  auditCheckpointKey: string;
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
  };
  if (Object.keys(kept).length === Object.keys(secrets).length) return secrets;
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}
