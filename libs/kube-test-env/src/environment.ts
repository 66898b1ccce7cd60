import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeControlPlane } from './control-plane';

export const TEST_KUBE_ENV = 'LATTICE_TEST_KUBE';

/** The control plane as the test files see it: everything but stopping it. */
export type TestKube = Omit<KubeControlPlane, 'stop'>;

/** The control plane the k8s tier's global setup started. */
export function testKube(): TestKube {
  const raw = process.env[TEST_KUBE_ENV];
  if (!raw)
    throw new Error(`${TEST_KUBE_ENV} is not set: run Kubernetes tests through jest's k8s project`);
  return JSON.parse(raw) as TestKube;
}

/** A client configuration for the test control plane. */
export function testKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(readFileSync(testKube().kubeconfigPath, 'utf8'));
  return kc;
}
