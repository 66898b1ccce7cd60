import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  loadAllYaml,
  type CoreV1Event,
  type V1ClusterRole,
  type V1Role,
} from '@kubernetes/client-node';
import { loadConfig } from '@lattice/config';
import { createLogger } from '@lattice/logging';
import { testKube, type TestKube } from '@lattice/kube-test-env';
import { TEST_INTERNAL_SECRET, testContextEnv, testNatsUrl } from '@lattice/testing';
import { GROUP, PLURAL, VERSION } from '../src/crd/scaling-policy.crd';
import { createOperator, type Operator } from '../src/operator.app';
import { operatorConfigSpec } from '../src/operator.config';
import type { ScalingPolicy, ScalingPolicySpec } from '../src/policy/scaling-policy.types';

const run = promisify(execFile);
export const CRD_FILE = resolve(__dirname, '../../../k8s/crds/scalingpolicies.lattice.dev.yaml');
export const RBAC_FILE = resolve(__dirname, '../../../k8s/operator/rbac.yaml');

/** A policy on a Deployment polled every second, on the JOBS queue unless told otherwise. */
export function policySpec(
  target: string,
  over: Partial<ScalingPolicySpec> = {},
): ScalingPolicySpec {
  return {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
    minReplicas: 1,
    maxReplicas: 10,
    pollingIntervalSeconds: 1,
    metrics: [
      {
        name: 'jobs',
        type: 'queue',
        queue: { stream: 'JOBS', consumer: 'workers', targetPerReplica: 10 },
      },
    ],
    ...over,
  };
}

/**
 * A policy whose only metric can never be read (no such consumer), so the acting operator
 * holds the fallback size: a way to see which replica acts without any metric source.
 */
export function fallbackPolicySpec(target: string, replicas: number): ScalingPolicySpec {
  return policySpec(target, {
    metrics: [
      {
        name: 'jobs',
        type: 'queue',
        queue: { stream: 'NONE', consumer: 'none', targetPerReplica: 5 },
      },
    ],
    fallback: { failureThreshold: 1, replicas },
  });
}

/** kubectl, of the API server's release, against the test control plane (or the one given). */
export async function kubectl(...args: string[]): Promise<string> {
  return kubectlOn(testKube(), ...args);
}

async function kubectlOn(kube: TestKube, ...args: string[]): Promise<string> {
  const { stdout } = await run(kube.kubectl, ['--kubeconfig', kube.kubeconfigPath, ...args], {
    encoding: 'utf8',
  });
  return stdout;
}

/** A client configuration for a control plane. */
export function kubeConfigOf(kube: TestKube): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(readFileSync(kube.kubeconfigPath, 'utf8'));
  return kc;
}

/** Installs (or re-applies) the CRD the way a user does, and waits until it is served. */
export async function installCrd(kube: TestKube = testKube()): Promise<void> {
  await kubectlOn(kube, 'apply', '--server-side', '--force-conflicts', '-f', CRD_FILE);
  await kubectlOn(
    kube,
    'wait',
    '--for=condition=established',
    '--timeout=60s',
    'crd/scalingpolicies.lattice.dev',
  );
}

/** Clients for one test file, working in a namespace of its own. */
export class KubeTestBed {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly custom: CustomObjectsApi;
  readonly rbac: RbacAuthorizationV1Api;
  readonly namespace = `t-${randomBytes(4).toString('hex')}`;
  private readonly operators: Operator[] = [];
  private readonly clusterScoped: string[] = [];

  /** On the control plane every test file shares, or on one of the file's own. */
  constructor(readonly kube: TestKube = testKube()) {
    this.kc = kubeConfigOf(kube);
    this.core = this.kc.makeApiClient(CoreV1Api);
    this.apps = this.kc.makeApiClient(AppsV1Api);
    this.custom = this.kc.makeApiClient(CustomObjectsApi);
    this.rbac = this.kc.makeApiClient(RbacAuthorizationV1Api);
  }

  async setUp(): Promise<this> {
    await installCrd(this.kube);
    await this.core.createNamespace({ body: { metadata: { name: this.namespace } } });
    return this;
  }

  async tearDown(): Promise<void> {
    await Promise.all(this.operators.map((o) => o.close()));
    for (const name of this.clusterScoped) {
      await this.rbac.deleteClusterRole({ name }).catch(() => undefined);
      await this.rbac.deleteClusterRoleBinding({ name }).catch(() => undefined);
    }
    await this.core.deleteNamespace({ name: this.namespace }).catch(() => undefined);
  }

  /** A Deployment object; with no controller manager its pods never exist, but its scale works. */
  async createDeployment(name: string, replicas: number): Promise<void> {
    await this.apps.createNamespacedDeployment({
      namespace: this.namespace,
      body: {
        metadata: { name },
        spec: {
          replicas,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: {
              containers: [
                {
                  name: 'app',
                  image: 'registry.example/app:1',
                  resources: { requests: { cpu: '500m' } },
                },
              ],
            },
          },
        },
      },
    });
  }

  async replicas(name: string): Promise<number> {
    const scale = await this.apps.readNamespacedDeploymentScale({
      name,
      namespace: this.namespace,
    });
    return scale.spec?.replicas ?? 0;
  }

  async createPolicy(name: string, spec: ScalingPolicySpec): Promise<void> {
    await this.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: this.namespace,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ScalingPolicy', metadata: { name }, spec },
    });
  }

  /** Changes a policy's spec the way `kubectl edit` would (a new generation). */
  async editPolicy(name: string, edit: (spec: ScalingPolicySpec) => void): Promise<void> {
    const current = await this.policy(name);
    edit(current.spec);
    await this.custom.replaceNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: this.namespace,
      name,
      body: current,
    });
  }

  async policy(name: string): Promise<ScalingPolicy> {
    return (await this.custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: this.namespace,
      name,
    })) as ScalingPolicy;
  }

  async events(policy: string): Promise<CoreV1Event[]> {
    const list = await this.core.listNamespacedEvent({
      namespace: this.namespace,
      fieldSelector: `involvedObject.name=${policy}`,
    });
    return list.items;
  }

  /**
   * A client acting as a service account of this namespace bound to the roles of
   * k8s/operator/rbac.yaml (the ClusterRole, and the leader-election Role in this namespace):
   * exactly what an installed operator may do.
   */
  async operatorServiceAccount(account = 'lattice-operator'): Promise<KubeConfig> {
    const docs = loadAllYaml(readFileSync(RBAC_FILE, 'utf8')) as { kind: string }[];
    const role = docs.find((d) => d.kind === 'ClusterRole') as V1ClusterRole;
    const leaseRole = docs.find((d) => d.kind === 'Role') as V1Role;
    const clusterRole = `lattice-operator-${this.namespace}`;
    this.clusterScoped.push(clusterRole);
    await this.core.createNamespacedServiceAccount({
      namespace: this.namespace,
      body: { metadata: { name: account } },
    });
    const subjects = [{ kind: 'ServiceAccount', name: account, namespace: this.namespace }];
    await this.rbac.createClusterRole({ body: { ...role, metadata: { name: clusterRole } } });
    await this.rbac.createClusterRoleBinding({
      body: {
        metadata: { name: clusterRole },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
        subjects,
      },
    });
    await this.rbac.createNamespacedRole({
      namespace: this.namespace,
      body: { ...leaseRole, metadata: { name: 'leases', namespace: this.namespace } },
    });
    await this.rbac.createNamespacedRoleBinding({
      namespace: this.namespace,
      body: {
        metadata: { name: 'leases' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'leases' },
        subjects,
      },
    });
    const request = await this.core.createNamespacedServiceAccountToken({
      name: account,
      namespace: this.namespace,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'test', server: this.kube.server, caFile: this.kube.caFile }],
      users: [{ name: account, token: request.status!.token }],
      contexts: [{ name: 'test', cluster: 'test', user: account }],
      currentContext: 'test',
    });
    return kc;
  }

  /** An operator in this process, watching only this namespace, with its lease here too. */
  async startOperator(
    options: {
      kubeConfig?: KubeConfig;
      identity?: string;
      natsPrefix?: string;
      leaseDurationSeconds?: number;
    } = {},
  ): Promise<Operator> {
    const config = loadConfig(operatorConfigSpec, {
      NATS_URL: testNatsUrl(),
      LATTICE_NAMESPACE: options.natsPrefix,
      LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
      ...testContextEnv('operator'),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      OPERATOR_HTTP_PORT: '0',
      OPERATOR_WATCH_NAMESPACE: this.namespace,
      OPERATOR_LEASE_NAMESPACE: this.namespace,
      OPERATOR_LEASE_DURATION_SECONDS: String(options.leaseDurationSeconds ?? 15),
      OPERATOR_IDENTITY: options.identity ?? `operator-${randomBytes(3).toString('hex')}`,
    });
    const operator = await createOperator(config, createLogger('operator', config.LOG_LEVEL), {
      kubeConfig: options.kubeConfig ?? kubeConfigOf(this.kube),
      leaseRetryPeriodMs: 500,
    });
    this.operators.push(operator);
    return operator;
  }
}
