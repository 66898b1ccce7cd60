import type { CoreV1Api } from '@kubernetes/client-node';
import {
  CONTEXT_PUBLIC_KEYS_SECRET_KEY,
  contextKeySecretKey,
  contextPublicKeys,
  newContextPrivateKey,
  parseContextPrivateKey,
} from '@lattice/request-context';

export interface ContextKeySecretTarget {
  namespace: string;
  /** The Secret's name (the chart's `<release>-lattice-context-keys`). */
  name: string;
  /** The services that must each have a private key in it. */
  services: readonly string[];
}

export interface ContextKeySecretOutcome {
  /** Whether the Secret was created (else it was there already). */
  created: boolean;
  /** The services whose keys were generated now; every other key was kept as it was. */
  generated: string[];
}

const isNotFound = (error: unknown) => (error as { code?: number } | null)?.code === 404;
const decode = (value: string) => Buffer.from(value, 'base64').toString('utf8');
const encode = (value: string) => Buffer.from(value, 'utf8').toString('base64');

/**
 * Makes sure the Secret of request-context keys holds a private key for every service named
 * (`context-key-<service>`) and the JWKS of all of them (`context-public-keys`): created with
 * fresh keys when missing, else only the missing keys generated and the JWKS rebuilt from every
 * private key it holds. A key already there is never replaced, so running it again (each
 * install and upgrade of the chart) changes nothing once every service has its key. An update
 * names the resourceVersion it read, so two runs at once cannot lose a key (one fails).
 */
export async function ensureContextKeySecret(
  core: CoreV1Api,
  target: ContextKeySecretTarget,
): Promise<ContextKeySecretOutcome> {
  const { namespace, name, services } = target;
  let existing: { data: Record<string, string>; resourceVersion: string } | undefined;
  try {
    const secret = await core.readNamespacedSecret({ name, namespace });
    existing = { data: secret.data ?? {}, resourceVersion: secret.metadata!.resourceVersion! };
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const prefix = contextKeySecretKey('');
  const privateKeys: Record<string, string> = {};
  for (const [key, value] of Object.entries(existing?.data ?? {})) {
    if (!key.startsWith(prefix)) continue;
    const service = key.slice(prefix.length);
    const pem = decode(value);
    try {
      parseContextPrivateKey(pem, service);
    } catch (error) {
      // a damaged key stops the run: replacing it would lose what it signed for
      throw new Error(`${key} in Secret ${namespace}/${name}: ${(error as Error).message}`);
    }
    privateKeys[service] = pem;
  }
  const generated = services.filter((s) => !(s in privateKeys));
  for (const service of generated) privateKeys[service] = newContextPrivateKey();
  // in the services' order, so the same keys always give the same JWKS
  const sorted = Object.fromEntries(
    Object.entries(privateKeys).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  const publicKeys = contextPublicKeys(sorted);
  const data: Record<string, string> = {
    ...Object.fromEntries(
      Object.entries(sorted).map(([s, pem]) => [contextKeySecretKey(s), encode(pem)]),
    ),
    [CONTEXT_PUBLIC_KEYS_SECRET_KEY]: encode(publicKeys),
  };
  if (!existing) {
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name, labels: { 'app.kubernetes.io/part-of': 'lattice' } },
        type: 'Opaque',
        data,
      },
    });
    return { created: true, generated };
  }
  const current = existing.data[CONTEXT_PUBLIC_KEYS_SECRET_KEY];
  if (generated.length > 0 || !current || decode(current) !== publicKeys) {
    await core.patchNamespacedSecret({
      name,
      namespace,
      body: [
        { op: 'test', path: '/metadata/resourceVersion', value: existing.resourceVersion },
        { op: 'add', path: '/data', value: { ...existing.data, ...data } },
      ],
    });
  }
  return { created: false, generated };
}
