import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyRing } from '@lattice/secrets';

export interface LocalSecrets {
  internalSecret: string;
  kek: string;
  adminPassword: string;
  appPassword: string;
  postgresPassword: string;
}

/**
 * Secrets for a platform run on one machine, generated on first start and kept (mode 600) in
 * the state folder so that a restart keeps the same keys, admin password and database passwords.
 */
export function loadOrCreateSecrets(stateDir: string): LocalSecrets {
  // traversable (not listable) by others: embedded PostgreSQL runs as its own user when we are root
  mkdirSync(stateDir, { recursive: true, mode: 0o711 });
  const file = join(stateDir, 'secrets.json');
  const fresh: LocalSecrets = {
    internalSecret: randomBytes(32).toString('base64url'),
    kek: KeyRing.generateSpec(),
    adminPassword: randomBytes(15).toString('base64url'),
    appPassword: randomBytes(18).toString('base64url'),
    postgresPassword: randomBytes(18).toString('base64url'),
  };
  // a state folder from an older version keeps its secrets and gains the ones it lacks
  const kept = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalSecrets>)
    : {};
  const secrets = { ...fresh, ...kept };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}
