import { ApiregistrationV1Api, DiscoveryV1Api } from '@kubernetes/client-node';
import { eventually } from '@lattice/testing';
import { MetricsServerStandIn } from '../../test/metrics-server.stand-in';
import { KubeTestBed, policySpec } from '../../test/operator.test-bed';

jest.setTimeout(90_000);

const WAIT = { timeoutMs: 45_000, intervalMs: 250 };
const LONG_AGO = new Date(Date.now() - 10 * 60_000);

describe('cpu metric through metrics.k8s.io', () => {
  let bed: KubeTestBed;
  const metrics = new MetricsServerStandIn();
  let registration: ApiregistrationV1Api;

  beforeAll(async () => {
    bed = await new KubeTestBed().setUp();
    const { ip, port } = await metrics.start();
    // the way metrics-server is installed: a Service, its endpoints, and an APIService
    await bed.core.createNamespacedService({
      namespace: bed.namespace,
      body: {
        metadata: { name: 'metrics-server' },
        spec: { ports: [{ name: 'https', port: 443, targetPort: port }] },
      },
    });
    await bed.core.createNamespacedEndpoints({
      namespace: bed.namespace,
      body: {
        metadata: { name: 'metrics-server' },
        subsets: [{ addresses: [{ ip }], ports: [{ name: 'https', port }] }],
      },
    });
    await bed.kc.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({
      namespace: bed.namespace,
      body: {
        metadata: {
          name: 'metrics-server-1',
          labels: { 'kubernetes.io/service-name': 'metrics-server' },
        },
        addressType: 'IPv4',
        endpoints: [{ addresses: [ip], conditions: { ready: true } }],
        ports: [{ name: 'https', port }],
      },
    });
    registration = bed.kc.makeApiClient(ApiregistrationV1Api);
    await registration.createAPIService({
      body: {
        metadata: { name: 'v1beta1.metrics.k8s.io' },
        spec: {
          group: 'metrics.k8s.io',
          version: 'v1beta1',
          service: { namespace: bed.namespace, name: 'metrics-server', port: 443 },
          insecureSkipTLSVerify: true,
          groupPriorityMinimum: 100,
          versionPriority: 100,
        },
      },
    });
  });

  afterAll(async () => {
    await registration.deleteAPIService({ name: 'v1beta1.metrics.k8s.io' }).catch(() => undefined);
    await metrics.stop();
    await bed.tearDown();
  });

  async function runningPod(name: string, labels: Record<string, string>): Promise<void> {
    await bed.core.createNamespacedPod({
      namespace: bed.namespace,
      body: {
        metadata: { name, labels },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'registry.example/web:1',
              resources: { requests: { cpu: '500m' } },
            },
          ],
        },
      },
    });
    // no kubelet here: write the status one would
    const pod = await bed.core.readNamespacedPod({ name, namespace: bed.namespace });
    pod.status = {
      phase: 'Running',
      startTime: LONG_AGO,
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: LONG_AGO }],
    };
    await bed.core.replaceNamespacedPodStatus({ name, namespace: bed.namespace, body: pod });
  }

  it('scales on CPU use against requests read the way HPA reads it', async () => {
    await bed.createDeployment('web', 3);
    for (const name of ['web-a', 'web-b', 'web-c']) {
      await runningPod(name, { app: 'web' });
      metrics.pods.push({ name, namespace: bed.namespace, labels: { app: 'web' }, cpu: '400m' });
    }
    // another workload's pod in the namespace must not count
    await runningPod('other', { app: 'other' });
    metrics.pods.push({
      name: 'other',
      namespace: bed.namespace,
      labels: { app: 'other' },
      cpu: '2',
    });

    await bed.startOperator({ identity: 'cpu' });
    await bed.createPolicy(
      'web',
      policySpec('web', {
        metrics: [{ name: 'cpu', type: 'cpu', cpu: { targetUtilization: 40 } }],
      }),
    );

    // 3 pods at 400m of 500m requested: 80 % against 40 % doubles them
    await eventually(async () => expect(await bed.replicas('web')).toBe(6), WAIT);
    await eventually(async () => {
      const policy = await bed.policy('web');
      expect(policy.status?.currentMetrics).toEqual([
        expect.objectContaining({ name: 'cpu', type: 'cpu', value: 80, target: 40, proposal: 6 }),
      ]);
    }, WAIT);
  });
});
