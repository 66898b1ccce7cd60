import { variable } from '@lattice/config';
import { z } from 'zod';
import { EnvelopeCipher, KeyRing } from './envelope';

/** Where a service finds the key-encryption keys for the secrets it stores. */
export const secretsConfig = {
  LATTICE_KEK: variable(
    z.string().optional(),
    'Key-encryption keys for secrets at rest, "id:base64(32 bytes)" comma-separated, the active one first',
    { sensitive: true },
  ),
  LATTICE_KEK_FILE: variable(
    z.string().optional(),
    'A mounted file holding the key-encryption keys, in the form of LATTICE_KEK; wins over it',
  ),
};

export function cipherFromConfig(config: {
  LATTICE_KEK?: string | undefined;
  LATTICE_KEK_FILE?: string | undefined;
}): EnvelopeCipher {
  return new EnvelopeCipher(
    KeyRing.load({ inline: config.LATTICE_KEK, file: config.LATTICE_KEK_FILE }),
  );
}
