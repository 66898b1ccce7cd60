import { randomBytes } from 'node:crypto';
import {
  SERVICE_ACCESS,
  natsPermissionsDocument,
  type NatsPermissionsDocument,
} from '@lattice/contracts';

/** Where the chart reads every service's NATS rights from; `generate:nats-permissions` writes it. */
export const NATS_PERMISSIONS_FILE = 'charts/lattice/files/nats-permissions.json';

/** Every declared service's NATS rights, for an installation's namespace. */
export function platformNatsPermissions(namespace?: string): NatsPermissionsDocument {
  return natsPermissionsDocument(SERVICE_ACCESS, namespace);
}

/** A password for each declared service that has none yet; the ones it has are kept. */
export function withNatsPasswords(kept: Record<string, string> = {}): Record<string, string> {
  const passwords = { ...kept };
  for (const { service } of SERVICE_ACCESS) {
    passwords[service] ??= randomBytes(24).toString('base64url');
  }
  return passwords;
}

/** The document as the repository keeps it (no namespace): pretty, with a final newline. */
export function natsPermissionsFileText(): string {
  return `${JSON.stringify(platformNatsPermissions(), null, 2)}\n`;
}
