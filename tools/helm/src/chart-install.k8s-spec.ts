import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  NetworkingV1Api,
  PolicyV1Api,
  RbacAuthorizationV1Api,
  type KubeConfig,
} from '@kubernetes/client-node';
import { KubeConfig as ServiceAccountKubeConfig } from '@kubernetes/client-node';
import { testKube, testKubeConfig } from '@lattice/kube-test-env';
import { ensureContextKeySecret } from '@lattice/service-runtime';
import {
  CHART_DIR,
  appNames,
  ciValuesFiles,
  helm,
  helmAsync,
  helmBinary,
  renderChart,
  type HelmResult,
} from './helm';

// the first run on a machine builds helm from its Go modules
jest.setTimeout(20 * 60_000);

const RELEASE = 'lat';
const PREFIX = 'lat-lattice';

/**
 * Plays the Job controller and kubelet this control plane lacks: each hook Job helm creates
 * is marked as having succeeded, so the install or upgrade goes on as on a real cluster.
 */
async function completeHookJobs(
  kc: KubeConfig,
  namespace: string,
  helmRun: Promise<HelmResult>,
  /** Looks at the cluster as the Job finds it, before it is marked done. */
  whenJobRuns: (job: string) => Promise<void> = async () => undefined,
): Promise<{ result: HelmResult; jobs: string[] }> {
  const batch = kc.makeApiClient(BatchV1Api);
  const completed: string[] = [];
  let finished = false;
  const run = helmRun.finally(() => (finished = true));
  while (!finished) {
    const jobs = await batch.listNamespacedJob({ namespace });
    for (const job of jobs.items) {
      const name = job.metadata!.name!;
      if (job.status?.succeeded) continue;
      await whenJobRuns(name);
      const now = new Date();
      await batch.replaceNamespacedJobStatus({
        name,
        namespace,
        body: {
          ...job,
          status: {
            startTime: now,
            completionTime: now,
            succeeded: 1,
            active: 0,
            ready: 0,
            terminating: 0,
            uncountedTerminatedPods: {},
            conditions: [
              {
                type: 'SuccessCriteriaMet',
                status: 'True',
                lastProbeTime: now,
                lastTransitionTime: now,
                reason: 'CompletionsReached',
                message: 'Reached expected number of succeeded pods',
              },
              {
                type: 'Complete',
                status: 'True',
                lastProbeTime: now,
                lastTransitionTime: now,
                reason: 'CompletionsReached',
                message: 'Reached expected number of succeeded pods',
              },
            ],
          },
        },
      });
      completed.push(name);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { result: await run, jobs: completed };
}

/**
 * What the context-keys hook Job's container does (`--ensure-context-keys`), as the Job's own
 * ServiceAccount: the Role the chart gives it must be enough.
 */
async function runContextKeysJob(kc: KubeConfig, namespace: string, job: string): Promise<void> {
  const batch = kc.makeApiClient(BatchV1Api);
  const spec = (await batch.readNamespacedJob({ name: job, namespace })).spec!.template.spec!;
  const env = Object.fromEntries(spec.containers[0]!.env!.map((e) => [e.name, e.value]));
  const token = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name: spec.serviceAccountName!,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 600 } },
  });
  const asJob = new ServiceAccountKubeConfig();
  asJob.loadFromOptions({
    clusters: [{ name: 'test', server: testKube().server, caFile: testKube().caFile }],
    users: [{ name: 'hook', token: token.status!.token }],
    contexts: [{ name: 'test', cluster: 'test', user: 'hook' }],
    currentContext: 'test',
  });
  await ensureContextKeySecret(asJob.makeApiClient(CoreV1Api), {
    namespace,
    name: env.LATTICE_CONTEXT_KEYS_SECRET!,
    services: env.LATTICE_CONTEXT_KEY_SERVICES!.split(','),
  });
}

describe('helm install, upgrade and uninstall against a real API server', () => {
  let home: string;
  let kc: KubeConfig;
  let core: CoreV1Api;
  const namespace = `chart-${Date.now().toString(36)}`;
  const kube = () => ['--kubeconfig', testKube().kubeconfigPath, '--namespace', namespace];
  const values = [
    '--set',
    'postgresql.external.existingSecret=',
    '--set',
    'postgresql.external.url=postgres://lattice:secret@postgres.example.test:5432/lattice',
  ];

  beforeAll(async () => {
    helmBinary();
    home = mkdtempSync(join(tmpdir(), 'lattice-helm-'));
    kc = testKubeConfig();
    core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });
  afterAll(async () => {
    helm(['uninstall', RELEASE, ...kube()], home);
    rmSync(home, { recursive: true, force: true });
  });

  async function secretData(): Promise<Record<string, string>> {
    const secret = await core.readNamespacedSecret({ name: `${PREFIX}-secrets`, namespace });
    return secret.data!;
  }

  let installed: Record<string, string>;
  let contextKeys: Record<string, string>;
  const readContextKeys = async () =>
    (await core.readNamespacedSecret({ name: `${PREFIX}-context-keys`, namespace })).data!;

  it('installs: the API server accepts every object, the CRD and the policies included', async () => {
    // pre-install: the schemas are migrated before any service exists
    const deploymentsAtMigration: string[] = [];
    const { result, jobs } = await completeHookJobs(
      kc,
      namespace,
      helmAsync(['install', RELEASE, CHART_DIR, ...kube(), ...values], home),
      async (job) => {
        const list = await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace });
        deploymentsAtMigration.push(...list.items.map((d) => d.metadata!.name!));
        if (job === `${PREFIX}-context-keys`) await runContextKeysJob(kc, namespace, job);
      },
    );
    expect(deploymentsAtMigration).toEqual([]);
    // (helm's stderr is shown should it fail; it warns of a group-readable kubeconfig)
    expect({ status: result.status, stderr: result.stderr }).toMatchObject({ status: 0 });
    // the context keys first (the Job's own account may make their Secret), then the schemas
    expect(jobs).toEqual([`${PREFIX}-context-keys`, `${PREFIX}-migrations`]);
    expect(result.stdout).toContain('kubectl port-forward');

    // every object the chart renders is there, as the API server stored it
    const rendered = renderChart(values, home, { release: RELEASE }).filter(
      (d) => !d.metadata.annotations?.['helm.sh/hook'],
    );
    const objects = KubernetesObjectApi.makeApiClient(kc);
    for (const doc of rendered) {
      const stored = await objects.read({
        apiVersion: doc.apiVersion,
        kind: doc.kind,
        metadata: { name: doc.metadata.name, namespace: doc.metadata.namespace && namespace },
      });
      expect([doc.kind, stored.metadata?.name]).toEqual([doc.kind, doc.metadata.name]);
    }
    expect(rendered.length).toBeGreaterThan(40);

    const crd = await kc
      .makeApiClient(ApiextensionsV1Api)
      .readCustomResourceDefinition({ name: 'scalingpolicies.lattice.dev' });
    expect(crd.spec.names.kind).toBe('ScalingPolicy');
    const policies = await kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
      group: 'lattice.dev',
      version: 'v1alpha1',
      namespace,
      plural: 'scalingpolicies',
    });
    // a CPU policy for each service with an API
    expect(
      (policies as { items: { metadata: { name: string } }[] }).items
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual(
      ['audit', 'auth', 'gateway', 'gpu-nodes', 'rag', 'scheduler', 'tenants'].map(
        (a) => `${PREFIX}-${a}`,
      ),
    );
    const agent = await kc
      .makeApiClient(AppsV1Api)
      .readNamespacedDaemonSet({ name: `${PREFIX}-gpu-agent`, namespace });
    expect(agent.spec!.template.spec!.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });

    // the migration hook cleaned up after itself
    await expect(
      kc.makeApiClient(BatchV1Api).readNamespacedJob({ name: `${PREFIX}-migrations`, namespace }),
    ).rejects.toMatchObject({ code: 404 });
    await expect(
      core.readNamespacedSecret({ name: `${PREFIX}-migrations`, namespace }),
    ).rejects.toMatchObject({ code: 404 });
    // each service's own key is in the Secret it names, beside the shared public keys
    contextKeys = await readContextKeys();
    const apps = kc.makeApiClient(AppsV1Api);
    for (const app of appNames()) {
      const spec =
        app === 'gpu-agent'
          ? (await apps.readNamespacedDaemonSet({ name: `${PREFIX}-${app}`, namespace })).spec!
          : (await apps.readNamespacedDeployment({ name: `${PREFIX}-${app}`, namespace })).spec!;
      const env = spec.template.spec!.containers[0]!.env!;
      for (const name of ['LATTICE_CONTEXT_KEY', 'LATTICE_CONTEXT_PUBLIC_KEYS']) {
        const ref = env.find((e) => e.name === name)!.valueFrom!.secretKeyRef!;
        expect(ref.name).toBe(`${PREFIX}-context-keys`);
        expect([app, name, ref.key in contextKeys]).toEqual([app, name, true]);
      }
    }
    installed = await secretData();
    expect(Object.keys(installed)).toEqual(
      expect.arrayContaining(['internal-secret', 'kek', 'audit-checkpoint-key', 'admin-password']),
    );
  });

  it('upgrades: the generated secrets are kept (lookup), the migration runs again', async () => {
    const { result, jobs } = await completeHookJobs(
      kc,
      namespace,
      helmAsync(
        [
          'upgrade',
          RELEASE,
          CHART_DIR,
          ...kube(),
          ...values,
          '--set',
          'gateway.replicaCount=3',
          '--set',
          'scalingPolicies.api.enabled=false',
        ],
        home,
      ),
      async (job) => {
        if (job === `${PREFIX}-context-keys`) await runContextKeysJob(kc, namespace, job);
      },
    );
    // (helm's stderr is shown should it fail; it warns of a group-readable kubeconfig)
    expect({ status: result.status, stderr: result.stderr }).toMatchObject({ status: 0 });
    expect(jobs).toEqual([`${PREFIX}-context-keys`, `${PREFIX}-migrations`]);
    expect(await secretData()).toEqual(installed);
    // the hook ran again and kept every key
    expect(await readContextKeys()).toEqual(contextKeys);
    const gateway = await kc
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ name: `${PREFIX}-gateway`, namespace });
    expect(gateway.spec!.replicas).toBe(3);
  });

  it('uninstalls, leaving only the CRD', async () => {
    const result = helm(['uninstall', RELEASE, ...kube()], home);
    expect(result.status).toBe(0);

    const apps = kc.makeApiClient(AppsV1Api);
    const selector = { namespace, labelSelector: `app.kubernetes.io/instance=${RELEASE}` };
    expect((await apps.listNamespacedDeployment(selector)).items).toEqual([]);
    expect((await apps.listNamespacedDaemonSet(selector)).items).toEqual([]);
    expect((await core.listNamespacedService(selector)).items).toEqual([]);
    expect((await core.listNamespacedServiceAccount(selector)).items).toEqual([]);
    expect((await core.listNamespacedConfigMap(selector)).items).toEqual([]);
    // helm's own release records are Secrets too; none of ours is left but the context keys,
    // which the hook Job made and the release never owned (a reinstall keeps them)
    expect(
      (await core.listNamespacedSecret({ namespace })).items.map((s) => s.metadata!.name),
    ).toEqual([`${PREFIX}-context-keys`]);
    expect((await kc.makeApiClient(BatchV1Api).listNamespacedJob(selector)).items).toEqual([]);
    expect(
      (await kc.makeApiClient(PolicyV1Api).listNamespacedPodDisruptionBudget(selector)).items,
    ).toEqual([]);
    expect(
      (await kc.makeApiClient(NetworkingV1Api).listNamespacedNetworkPolicy(selector)).items,
    ).toEqual([]);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    expect(
      (await rbac.listClusterRole({ labelSelector: `app.kubernetes.io/instance=${RELEASE}` }))
        .items,
    ).toEqual([]);
    expect((await rbac.listNamespacedRole(selector)).items).toEqual([]);
    // helm never deletes the CRDs it installed from crds/ (that would delete every policy)
    const crd = await kc
      .makeApiClient(ApiextensionsV1Api)
      .readCustomResourceDefinition({ name: 'scalingpolicies.lattice.dev' });
    expect(crd.metadata!.name).toBe('scalingpolicies.lattice.dev');
  });
});

describe('helm install of the evaluation values (bundled PostgreSQL and NATS)', () => {
  let home: string;
  const namespace = `chart-eval-${Date.now().toString(36)}`;
  const kube = () => ['--kubeconfig', testKube().kubeconfigPath, '--namespace', namespace];

  beforeAll(async () => {
    helmBinary();
    home = mkdtempSync(join(tmpdir(), 'lattice-helm-'));
    await testKubeConfig()
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: namespace } } });
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('migrates after the install, once the bundled database exists, and uninstalls cleanly', async () => {
    const kc = testKubeConfig();
    const bundled = join(CHART_DIR, 'ci/bundled-values.yaml');
    // the Job is created only once every other object is: the post-install hook
    const run = helmAsync(['install', 'eval', CHART_DIR, ...kube(), '-f', bundled], home);
    const apps = kc.makeApiClient(AppsV1Api);
    const presentAtMigration: string[] = [];
    const { result, jobs } = await completeHookJobs(kc, namespace, run, async (job) => {
      if (job !== 'eval-lattice-migrations') return;
      const sets = await apps.listNamespacedStatefulSet({ namespace });
      presentAtMigration.push(...sets.items.map((s) => s.metadata!.name!));
    });
    expect(presentAtMigration.sort()).toEqual(['eval-lattice-nats', 'eval-lattice-postgresql']);
    expect({ status: result.status, stderr: result.stderr }).toMatchObject({ status: 0 });
    expect(jobs).toEqual(['eval-lattice-context-keys', 'eval-lattice-migrations']);
    expect(result.stdout).toContain('for evaluation only');
    const postgres = await apps.readNamespacedStatefulSet({
      name: 'eval-lattice-postgresql',
      namespace,
    });
    expect(postgres.spec!.template.spec!.containers[0]!.image).toBe(
      'docker.io/pgvector/pgvector:0.8.1-pg17',
    );
    await apps.readNamespacedStatefulSet({ name: 'eval-lattice-nats', namespace });

    // a NATS password per service, kept across an upgrade like every generated secret
    const core = kc.makeApiClient(CoreV1Api);
    const secretData = async () =>
      (await core.readNamespacedSecret({ name: 'eval-lattice-secrets', namespace })).data!;
    const installed = await secretData();
    for (const app of appNames()) expect(installed[`nats-password-${app}`]).toBeDefined();
    const upgrade = await completeHookJobs(
      kc,
      namespace,
      helmAsync(
        ['upgrade', 'eval', CHART_DIR, ...kube(), '-f', bundled, '--set', 'logLevel=debug'],
        home,
      ),
    );
    expect({ status: upgrade.result.status, stderr: upgrade.result.stderr }).toMatchObject({
      status: 0,
    });
    expect(await secretData()).toEqual(installed);
    const nats = await apps.readNamespacedStatefulSet({ name: 'eval-lattice-nats', namespace });
    const natsEnv = nats.spec!.template.spec!.containers[0]!.env!.map((e) => e.name);
    expect(natsEnv).toContain('NATS_PASSWORD_GATEWAY');

    expect(helm(['uninstall', 'eval', ...kube()], home).status).toBe(0);
    expect((await apps.listNamespacedStatefulSet({ namespace })).items).toEqual([]);
    expect((await core.listNamespacedSecret({ namespace })).items).toEqual([]);
    expect(
      (
        await core.listNamespacedConfigMap({
          namespace,
          labelSelector: 'app.kubernetes.io/instance=eval',
        })
      ).items,
    ).toEqual([]);
  });
});

describe('every values file in ci/, as the API server sees it', () => {
  let home: string;
  const namespace = `chart-dry-${Date.now().toString(36)}`;

  beforeAll(async () => {
    helmBinary();
    home = mkdtempSync(join(tmpdir(), 'lattice-helm-'));
    const kc = testKubeConfig();
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    // the policies are validated against the CRD (its schema and CEL rules)
    const crd = spawnSync(
      testKube().kubectl,
      [
        '--kubeconfig',
        testKube().kubeconfigPath,
        'apply',
        '--server-side',
        '--force-conflicts',
        '-f',
        join(CHART_DIR, 'crds'),
      ],
      { encoding: 'utf8' },
    );
    if (crd.status !== 0) throw new Error(crd.stderr);
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it.each(ciValuesFiles().map((f) => [basename(f), f]))(
    'accepts every object %s renders, hooks included (server-side dry run)',
    (name, file) => {
      const docs = renderChart(['-f', file, '--namespace', namespace], home);
      const manifests = join(home, name);
      const result = helm(
        ['template', 'lattice', CHART_DIR, '--namespace', namespace, '-f', file],
        home,
      );
      writeFileSync(manifests, result.stdout);
      const apply = spawnSync(
        testKube().kubectl,
        [
          '--kubeconfig',
          testKube().kubeconfigPath,
          'apply',
          '--dry-run=server',
          '-n',
          namespace,
          '-f',
          manifests,
        ],
        { encoding: 'utf8' },
      );
      expect({ status: apply.status, stderr: apply.stderr }).toEqual({ status: 0, stderr: '' });
      // one line per object: "<kind>/<name> created (server dry run)"
      expect(apply.stdout.trim().split('\n')).toHaveLength(docs.length);
    },
  );
});
