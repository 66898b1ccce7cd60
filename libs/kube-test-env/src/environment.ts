import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

export const TEST_KUBE_ENV = 'LATTICE_TEST_KUBE';

export interface TestKube {
  server: string;
  token: string;
  caFile: string;
  keyFile: string;
  kubeconfigPath: string;
  /** The kubectl of the same release as the API server. */
  kubectl: string;
}

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
