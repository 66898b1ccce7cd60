import { SERVICE_NAMES } from '@lattice/contracts';
import { newContextKeySet } from '@lattice/request-context';

/**
 * `npm run generate:context-keys`: a fresh request-context key pair for every declared service,
 * printed as JSON (`privateKeys`: PEM by service, each a service's LATTICE_CONTEXT_KEY;
 * `publicKeys`: the JWKS every service is given as LATTICE_CONTEXT_PUBLIC_KEYS), for an
 * installation whose keys come from an existing Secret. Nothing is written anywhere.
 */
process.stdout.write(`${JSON.stringify(newContextKeySet(SERVICE_NAMES), null, 2)}\n`);
