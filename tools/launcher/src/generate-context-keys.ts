import { parseArgs } from 'node:util';
import { SERVICE_NAMES } from '@lattice/contracts';
import { contextKeySecretData, newContextKeySet } from '@lattice/request-context';

/**
 * `npm run generate:context-keys`: a fresh request-context key pair for every declared service,
 * printed as JSON (`privateKeys`: PEM by service, each a service's LATTICE_CONTEXT_KEY;
 * `publicKeys`: the JWKS every service is given as LATTICE_CONTEXT_PUBLIC_KEYS), for an
 * installation whose keys come from an existing Secret. Nothing is written anywhere.
 *
 * `npm run --silent generate:context-keys -- --secret NAME [--namespace NS]`: the same keys as
 * a Kubernetes Secret manifest, the one the Helm chart's `secrets.contextKeys.existingSecret`
 * names (`| kubectl apply -f -`).
 */
const { values } = parseArgs({
  options: { secret: { type: 'string' }, namespace: { type: 'string' } },
});
const keys = newContextKeySet(SERVICE_NAMES);
const output = values.secret
  ? {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: values.secret,
        ...(values.namespace ? { namespace: values.namespace } : {}),
        labels: { 'app.kubernetes.io/part-of': 'lattice' },
      },
      type: 'Opaque',
      stringData: contextKeySecretData(keys),
    }
  : keys;
process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
