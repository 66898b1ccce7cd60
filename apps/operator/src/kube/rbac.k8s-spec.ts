import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  loadAllYaml,
  type V1ClusterRole,
  type V1Role,
} from '@kubernetes/client-node';
import { testKube } from '@lattice/kube-test-env';
import { eventually } from '@lattice/testing';
import { KubeTestBed, fallbackPolicySpec } from '../../test/operator.test-bed';
import { GROUP, PLURAL, VERSION } from '../crd/scaling-policy.crd';

jest.setTimeout(90_000);

const RBAC_FILE = join(__dirname, '../../../../k8s/operator/rbac.yaml');

describe('the RBAC in k8s/operator', () => {
  let bed: KubeTestBed;
  let rbac: RbacAuthorizationV1Api;
  let clusterRole: string;
  let asOperator: KubeConfig;

  beforeAll(async () => {
    bed = await new KubeTestBed().setUp();
    rbac = bed.kc.makeApiClient(RbacAuthorizationV1Api);
    asOperator = await serviceAccountConfig('lattice-operator');
    await grant('lattice-operator');
  });
  afterAll(async () => {
    await rbac.deleteClusterRole({ name: clusterRole }).catch(() => undefined);
    await rbac.deleteClusterRoleBinding({ name: clusterRole }).catch(() => undefined);
    await bed.tearDown();
  });

  /** The manifests' roles, bound to a service account of this test's namespace. */
  async function grant(account: string): Promise<void> {
    const docs = loadAllYaml(readFileSync(RBAC_FILE, 'utf8')) as { kind: string }[];
    const role = docs.find((d) => d.kind === 'ClusterRole') as V1ClusterRole;
    const leaseRole = docs.find((d) => d.kind === 'Role') as V1Role;
    clusterRole = `lattice-operator-${bed.namespace}`;
    await rbac.createClusterRole({ body: { ...role, metadata: { name: clusterRole } } });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: clusterRole },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
        subjects: [{ kind: 'ServiceAccount', name: account, namespace: bed.namespace }],
      },
    });
    await rbac.createNamespacedRole({
      namespace: bed.namespace,
      body: { ...leaseRole, metadata: { name: 'leases', namespace: bed.namespace } },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: bed.namespace,
      body: {
        metadata: { name: 'leases' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'leases' },
        subjects: [{ kind: 'ServiceAccount', name: account, namespace: bed.namespace }],
      },
    });
  }

  async function serviceAccountConfig(account: string): Promise<KubeConfig> {
    await bed.core.createNamespacedServiceAccount({
      namespace: bed.namespace,
      body: { metadata: { name: account } },
    });
    const request = await bed.core.createNamespacedServiceAccountToken({
      name: account,
      namespace: bed.namespace,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const { server, caFile } = testKube();
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'test', server, caFile }],
      users: [{ name: account, token: request.status!.token }],
      contexts: [{ name: 'test', cluster: 'test', user: account }],
      currentContext: 'test',
    });
    return kc;
  }

  it('is all the operator needs: it leads, scales, writes status and records Events', async () => {
    const operator = await bed.startOperator({ kubeConfig: asOperator, identity: 'rbac' });
    await bed.createDeployment('api', 1);
    await bed.createPolicy('api', fallbackPolicySpec('api', 2));
    await eventually(async () => expect(await bed.replicas('api')).toBe(2), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    expect(operator.elector.isLeader).toBe(true);
    await eventually(async () => {
      expect((await bed.policy('api')).status?.desiredReplicas).toBe(2);
      expect((await bed.events('api')).map((e) => e.reason)).toContain('FallbackActive');
    });
  });

  it('does not let the operator touch what it does not need', async () => {
    const apps = asOperator.makeApiClient(AppsV1Api);
    await expect(
      apps.deleteNamespacedDeployment({ name: 'api', namespace: bed.namespace }),
    ).rejects.toMatchObject({
      code: 403,
    });
    // it merge-patches scales and status, so it may not replace them
    await expect(
      apps.replaceNamespacedDeploymentScale({
        name: 'api',
        namespace: bed.namespace,
        body: { metadata: { name: 'api', namespace: bed.namespace }, spec: { replicas: 9 } },
      }),
    ).rejects.toMatchObject({ code: 403 });
    const custom = asOperator.makeApiClient(CustomObjectsApi);
    await expect(
      custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: bed.namespace,
        name: 'api',
      }),
    ).rejects.toMatchObject({ code: 403 });
    const core = asOperator.makeApiClient(CoreV1Api);
    await expect(core.listNamespacedSecret({ namespace: bed.namespace })).rejects.toMatchObject({
      code: 403,
    });
    // and what it needs, it has
    expect((await core.listNamespacedPod({ namespace: bed.namespace })).items).toEqual([]);
  });
});
