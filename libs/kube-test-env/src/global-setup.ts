import { startControlPlane } from './control-plane';
import { TEST_KUBE_ENV } from './environment';

/** Jest global setup of the k8s tier: one etcd + kube-apiserver for every *.k8s-spec.ts file. */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const plane = await startControlPlane((line) =>
    process.stderr.write(`[kube test env] ${line}\n`),
  );
  process.stderr.write(
    `[kube test env] kube-apiserver ready at ${plane.server} in ${Date.now() - started} ms\n`,
  );
  const { stop, ...shared } = plane;
  process.env[TEST_KUBE_ENV] = JSON.stringify(shared);
  (globalThis as { __latticeKube?: { stop(): Promise<void> } }).__latticeKube = { stop };
}
