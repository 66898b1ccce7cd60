import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { eventually } from '@lattice/testing';
import { KubeTestBed, fallbackPolicySpec } from '../../test/operator.test-bed';
import { GROUP, PLURAL, VERSION } from '../crd/scaling-policy.crd';

jest.setTimeout(90_000);

describe('the RBAC in k8s/operator', () => {
  let bed: KubeTestBed;
  let asOperator: KubeConfig;

  beforeAll(async () => {
    bed = await new KubeTestBed().setUp();
    asOperator = await bed.operatorServiceAccount();
  });
  afterAll(() => bed.tearDown());

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

  it('lets the operator annotate the pods it drains, and neither delete, replace nor evict them', async () => {
    await bed.core.createNamespacedPod({
      namespace: bed.namespace,
      body: {
        metadata: { name: 'worker-0', labels: { app: 'worker' } },
        spec: { containers: [{ name: 'app', image: 'registry.example/worker:1' }] },
      },
    });
    const core = asOperator.makeApiClient(CoreV1Api);
    await core.patchNamespacedPod(
      {
        name: 'worker-0',
        namespace: bed.namespace,
        body: { metadata: { annotations: { 'controller.kubernetes.io/pod-deletion-cost': '-1' } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const pod = await bed.core.readNamespacedPod({ name: 'worker-0', namespace: bed.namespace });
    expect(pod.metadata?.annotations?.['controller.kubernetes.io/pod-deletion-cost']).toBe('-1');

    await expect(
      core.readNamespacedPod({ name: 'worker-0', namespace: bed.namespace }),
    ).rejects.toMatchObject({ code: 403 });
    await expect(
      core.replaceNamespacedPod({ name: 'worker-0', namespace: bed.namespace, body: pod }),
    ).rejects.toMatchObject({ code: 403 });
    await expect(
      core.deleteNamespacedPod({ name: 'worker-0', namespace: bed.namespace }),
    ).rejects.toMatchObject({ code: 403 });
    await expect(
      core.createNamespacedPodEviction({
        name: 'worker-0',
        namespace: bed.namespace,
        body: { metadata: { name: 'worker-0', namespace: bed.namespace } },
      }),
    ).rejects.toMatchObject({ code: 403 });
    await expect(
      core.patchNamespacedPodStatus(
        { name: 'worker-0', namespace: bed.namespace, body: { status: { phase: 'Running' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    ).rejects.toMatchObject({ code: 403 });
  });
});
