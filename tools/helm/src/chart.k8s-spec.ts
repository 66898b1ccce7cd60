import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { natsServerBinary } from '@lattice/local-infra';
import {
  CHART_DIR,
  REPO_ROOT,
  appNames,
  ciValuesFiles,
  helm,
  helmBinary,
  parseManifests,
  renderChart,
  type Manifest,
} from './helm';

// the first run on a machine builds helm from its Go modules
jest.setTimeout(20 * 60_000);

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: Record<string, Record<string, string>> }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  nodeSelector?: Record<string, string>;
  tolerations?: { key?: string }[];
  securityContext?: Record<string, unknown>;
}
type Workload = Manifest & { spec: { replicas?: number; template: { spec: PodSpec } } };

const WORKLOAD_KINDS = ['Deployment', 'DaemonSet', 'StatefulSet', 'Job'];
const byKind = (docs: Manifest[], kind: string) => docs.filter((d) => d.kind === kind);
const named = (docs: Manifest[], kind: string, name: string) =>
  docs.find((d) => d.kind === kind && d.metadata.name === name) as Workload | undefined;
const withData = (docs: Manifest[], kind: 'Secret' | 'ConfigMap', name: string) =>
  docs.find((d) => d.kind === kind && d.metadata.name === name) as Manifest & {
    data: Record<string, string>;
  };
const envOf = (c: Container, name: string) => c.env?.find((e) => e.name === name);
/** The Secret of request-context keys the chart's hook Job keeps, for release "lattice". */
const CONTEXT_KEYS_SECRET = 'lattice-context-keys';

describe('the Helm chart', () => {
  let home: string;

  beforeAll(() => {
    helmBinary();
    home = mkdtempSync(join(tmpdir(), 'lattice-helm-'));
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  /** The audit service's container as the chart renders it with these arguments. */
  const auditContainer = (args: string[]) =>
    (named(renderChart(args, home), 'Deployment', 'lattice-audit') as Workload).spec.template.spec
      .containers[0]!;

  describe('lint', () => {
    it('passes helm lint --strict with its defaults', () => {
      const result = helm(['lint', CHART_DIR, '--strict'], home);
      expect(result.stderr + result.stdout).toContain('0 chart(s) failed');
      expect(result.status).toBe(0);
    });

    it.each(ciValuesFiles().map((f) => [basename(f), f]))(
      'passes helm lint --strict with %s',
      (_, file) => {
        const result = helm(['lint', CHART_DIR, '--strict', '-f', file], home);
        expect(result.stderr + result.stdout).toContain('0 chart(s) failed');
        expect(result.status).toBe(0);
      },
    );
  });

  describe('with its defaults', () => {
    let docs: Manifest[];
    beforeAll(() => {
      docs = renderChart([], home);
    });

    it('runs every app of the repository as its own workload', () => {
      const workloads = docs.filter((d) => ['Deployment', 'DaemonSet'].includes(d.kind));
      for (const app of appNames()) {
        expect(workloads.map((w) => w.metadata.name)).toContain(`lattice-${app}`);
      }
      expect(named(docs, 'Deployment', 'lattice-gpu-nodes')).toBeDefined();
      expect(named(docs, 'DaemonSet', 'lattice-gpu-agent')).toBeDefined();
    });

    it('gives every container the restricted security context, probes and requests', () => {
      const pods = docs
        .filter((d) => WORKLOAD_KINDS.includes(d.kind))
        .map((d) => [d.metadata.name, (d as Workload).spec.template.spec] as const);
      expect(pods.length).toBeGreaterThan(8);
      for (const [name, pod] of pods) {
        expect({ name, ...pod.securityContext }).toMatchObject({
          name,
          runAsNonRoot: true,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
          expect({ name, ...c.securityContext }).toMatchObject({
            name,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ['ALL'] },
          });
          expect(c.resources?.requests).toEqual({
            cpu: expect.any(String),
            memory: expect.any(String),
          });
        }
      }
      for (const kind of ['Deployment', 'DaemonSet']) {
        for (const w of byKind(docs, kind) as Workload[]) {
          const [c] = w.spec.template.spec.containers;
          expect([w.metadata.name, c!.livenessProbe?.httpGet?.path]).toEqual([
            w.metadata.name,
            '/livez',
          ]);
          expect(c!.readinessProbe?.httpGet?.path).toBe('/readyz');
        }
      }
    });

    it('never migrates at start: a pre-install and pre-upgrade Job does, schema by schema', () => {
      for (const w of docs.filter((d) => ['Deployment', 'DaemonSet'].includes(d.kind))) {
        for (const c of (w as Workload).spec.template.spec.containers) {
          expect(c.args ?? []).not.toContain('--migrate');
        }
      }
      const job = named(docs, 'Job', 'lattice-migrations')!;
      expect(job.metadata.annotations).toMatchObject({
        'helm.sh/hook': 'pre-install,pre-upgrade',
        'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
      });
      const pod = job.spec.template.spec;
      const steps = [...(pod.initContainers ?? []), ...pod.containers];
      expect(steps.map((c) => c.name)).toEqual([
        'tenants',
        'auth',
        'audit',
        'scheduler',
        'gpu-nodes',
        'rag',
      ]);
      for (const c of steps) {
        expect(c.args).toEqual(['--migrate-only']);
        expect(c.image).toBe(`lattice/${c.name}:0.1.0`);
        // the role password the service itself will use, from the hook's own Secret
        expect(envOf(c, 'DATABASE_APP_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
          name: 'lattice-migrations',
          key: `db-password-${c.name}`,
        });
        // the external database's URL, from the Secret the values name
        expect(envOf(c, 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({
          name: 'lattice-database',
          key: 'database-url',
        });
        // a migration reads nothing but its database: no NATS, no context keys
        expect(c.env?.map((e) => e.name)).toEqual([
          'LOG_LEVEL',
          'LATTICE_LOG_FORMAT',
          'DATABASE_URL',
          'DATABASE_APP_PASSWORD',
        ]);
      }
      const hookSecret = named(docs, 'Secret', 'lattice-migrations')!;
      expect(hookSecret.metadata.annotations?.['helm.sh/hook-weight']).toBe('-10');
    });

    it('keeps the request-context keys with a hook Job allowed that one Secret alone', () => {
      const hooks = docs.filter(
        (d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'context-keys',
      );
      expect(hooks.map((d) => [d.kind, d.metadata.annotations?.['helm.sh/hook-weight']])).toEqual(
        expect.arrayContaining([
          ['ServiceAccount', '-30'],
          ['Role', '-30'],
          ['RoleBinding', '-30'],
          ['Job', '-20'],
        ]),
      );
      for (const d of hooks.filter((h) => h.kind !== 'NetworkPolicy')) {
        expect(d.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
      }
      const role = hooks.find((d) => d.kind === 'Role') as Manifest & { rules: unknown[] };
      expect(role.rules).toEqual([
        {
          apiGroups: [''],
          resources: ['secrets'],
          resourceNames: [CONTEXT_KEYS_SECRET],
          verbs: ['get', 'patch'],
        },
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      ]);
      const job = named(docs, 'Job', 'lattice-context-keys')!.spec.template.spec as PodSpec & {
        serviceAccountName: string;
      };
      expect(job.serviceAccountName).toBe('lattice-context-keys');
      const c = job.containers[0]!;
      expect(c.image).toBe('lattice/gateway:0.1.0');
      expect(c.args).toEqual(['--ensure-context-keys']);
      expect(envOf(c, 'LATTICE_CONTEXT_KEYS_SECRET')?.value).toBe(CONTEXT_KEYS_SECRET);
      // a key for every service the chart can run, so switching one on later needs no new key
      expect(envOf(c, 'LATTICE_CONTEXT_KEY_SERVICES')?.value?.split(',')).toEqual(
        expect.arrayContaining([...appNames(), 'gpu-nodes']),
      );
      // the Secret is the Job's, not the release's
      expect(named(docs, 'Secret', CONTEXT_KEYS_SECRET)).toBeUndefined();
      // with the network policies on, the Job reaches the Kubernetes API
      const policy = named(docs, 'NetworkPolicy', 'lattice-context-keys') as unknown as Manifest & {
        spec: { egress: { ports: { port: number }[] }[] };
      };
      expect(policy.spec.egress[0]!.ports.map((p) => p.port)).toEqual([443, 6443]);
    });

    it('uses an existing Secret of context keys instead, with no hook Job', () => {
      const own = renderChart(['--set', 'secrets.contextKeys.existingSecret=my-keys'], home);
      expect(
        own.filter((d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'context-keys'),
      ).toEqual([]);
      const gateway = named(own, 'Deployment', 'lattice-gateway')!.spec.template.spec;
      expect(envOf(gateway.containers[0]!, 'LATTICE_CONTEXT_KEY')?.valueFrom?.secretKeyRef).toEqual(
        { name: 'my-keys', key: 'context-key-gateway' },
      );
    });

    it('generates the secrets the services need, and the migration hook sees the same', () => {
      const secret = withData(docs, 'Secret', 'lattice-secrets');
      const value = (key: string) => Buffer.from(secret.data[key]!, 'base64').toString();
      expect(value('internal-secret')).toMatch(/^[A-Za-z0-9]{48}$/);
      expect(value('kek')).toMatch(/^k\d{8}:[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(value('kek').split(':')[1]!, 'base64')).toHaveLength(32);
      expect(value('audit-checkpoint-key')).toContain('-----BEGIN PRIVATE KEY-----');
      expect(value('admin-password')).toMatch(/^[A-Za-z0-9]{24}$/);
      const hook = withData(docs, 'Secret', 'lattice-migrations');
      for (const app of ['tenants', 'auth', 'audit', 'scheduler', 'gpu-nodes']) {
        expect(hook.data[`db-password-${app}`]).toBe(secret.data[`db-password-${app}`]);
      }
    });

    it('gives each service the variables its config module requires', () => {
      const container = (name: string) =>
        named(docs, name === 'gpu-agent' ? 'DaemonSet' : 'Deployment', `lattice-${name}`)!.spec
          .template.spec.containers[0]!;
      const secretKey = (c: Container, name: string) => envOf(c, name)?.valueFrom?.secretKeyRef;
      for (const app of appNames()) {
        const c = container(app);
        expect(envOf(c, 'NATS_URL')?.value).toBe('nats://nats:4222');
        // no NATS user where the external server has none configured
        expect(envOf(c, 'LATTICE_NATS_USER')).toBeUndefined();
        // its own request-context key only, and every service's public keys
        expect(secretKey(c, 'LATTICE_CONTEXT_KEY')).toEqual({
          name: CONTEXT_KEYS_SECRET,
          key: `context-key-${app}`,
        });
        expect(secretKey(c, 'LATTICE_CONTEXT_PUBLIC_KEYS')).toEqual({
          name: CONTEXT_KEYS_SECRET,
          key: 'context-public-keys',
        });
        expect(secretKey(c, 'LATTICE_INTERNAL_SECRET')).toEqual({
          name: 'lattice-secrets',
          key: 'internal-secret',
        });
      }
      expect(secretKey(container('auth'), 'LATTICE_KEK')?.key).toBe('kek');
      expect(secretKey(container('auth'), 'AUTH_ADMIN_PASSWORD')?.key).toBe('admin-password');
      expect(secretKey(container('audit'), 'AUDIT_CHECKPOINT_KEY')?.key).toBe(
        'audit-checkpoint-key',
      );
      expect(secretKey(container('audit'), 'LATTICE_KEK')?.key).toBe('kek');
      expect(secretKey(container('scheduler'), 'DATABASE_APP_PASSWORD')?.key).toBe(
        'db-password-scheduler',
      );
      expect(envOf(container('gateway'), 'GATEWAY_PORT')?.value).toBe('8080');
      expect(envOf(container('operator'), 'POD_NAMESPACE')?.valueFrom).toEqual({
        fieldRef: { fieldPath: 'metadata.namespace' },
      });
      const agent = named(docs, 'DaemonSet', 'lattice-gpu-agent')!.spec.template.spec;
      expect(envOf(agent.containers[0]!, 'NODE_NAME')?.valueFrom).toEqual({
        fieldRef: { fieldPath: 'spec.nodeName' },
      });
      expect(agent.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
      expect(agent.tolerations).toEqual([
        { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
      ]);
    });

    it('leaves the replicas of the API services to their ScalingPolicies', () => {
      const policies = byKind(docs, 'ScalingPolicy') as (Manifest & {
        spec: Record<string, unknown>;
      })[];
      expect(policies.map((p) => p.metadata.name).sort()).toEqual(
        ['audit', 'auth', 'gateway', 'gpu-nodes', 'rag', 'scheduler', 'tenants'].map(
          (a) => `lattice-${a}`,
        ),
      );
      for (const p of policies) {
        expect(p.spec).toMatchObject({
          minReplicas: 2,
          maxReplicas: 10,
          metrics: [{ type: 'cpu', cpu: { targetUtilization: 80 } }],
        });
        expect(named(docs, 'Deployment', p.metadata.name)!.spec.replicas).toBeUndefined();
      }
      expect(named(docs, 'Deployment', 'lattice-operator')!.spec.replicas).toBe(2);
    });

    it('denies by default, opens the gateway, and lets services reach only NATS and PostgreSQL', () => {
      const policies = byKind(docs, 'NetworkPolicy') as (Manifest & {
        spec: {
          policyTypes: string[];
          ingress?: { from?: unknown[]; ports?: { port: unknown }[] }[];
          egress?: { to?: unknown[]; ports?: { port: unknown }[] }[];
        };
      })[];
      const deny = policies.find((p) => p.metadata.name === 'lattice-default-deny')!;
      expect(deny.spec).toMatchObject({ policyTypes: ['Ingress', 'Egress'] });
      expect(deny.spec.ingress).toBeUndefined();
      expect(deny.spec.egress).toBeUndefined();
      const of = (app: string) => policies.find((p) => p.metadata.name === `lattice-${app}`)!;
      expect(of('gateway').spec.ingress![0]).toEqual({
        ports: [{ protocol: 'TCP', port: 'http' }],
      });
      const egressPorts = (app: string) =>
        of(app).spec.egress!.flatMap((rule) => rule.ports!.map((p) => p.port));
      expect(egressPorts('tenants')).toEqual([4222, 5432]);
      expect(egressPorts('gateway')).toEqual([4222]);
      expect(egressPorts('gpu-agent')).toEqual([4222, 9400]);
      expect(of('tenants').spec.ingress!.every((r) => r.from !== undefined)).toBe(true);
    });

    it('renders no monitoring objects where the Prometheus Operator is missing', () => {
      expect(byKind(docs, 'ServiceMonitor')).toEqual([]);
      expect(byKind(docs, 'PrometheusRule')).toEqual([]);
    });
  });

  describe('the RAG service', () => {
    const ragEnv = (docs: Manifest[]) =>
      (named(docs, 'Deployment', 'lattice-rag') as Workload).spec.template.spec.containers[0]!;

    it('embeds offline unless an embeddings server is named, then sends its model, size and key', () => {
      const offline = ragEnv(renderChart([], home));
      expect(envOf(offline, 'LATTICE_EMBEDDINGS_URL')).toBeUndefined();
      expect(envOf(offline, 'RAG_CONTEXT_BUDGET_TOKENS')?.value).toBe('4000');
      const served = ragEnv(
        renderChart(
          [
            '--set',
            'rag.embeddings.url=http://tei.models:8080',
            '--set',
            'rag.embeddings.model=bge-base-en',
            '--set',
            'rag.embeddings.dimension=768',
            '--set',
            'rag.embeddings.apiKeySecret.name=embeddings',
            '--set',
            'rag.answerModels={llama-3-8b,mistral-7b}',
            '--set',
            'rag.answerTimeoutSeconds=30',
          ],
          home,
        ),
      );
      expect(envOf(served, 'LATTICE_EMBEDDINGS_URL')?.value).toBe('http://tei.models:8080');
      expect(envOf(served, 'LATTICE_EMBEDDINGS_MODEL')?.value).toBe('bge-base-en');
      expect(envOf(served, 'LATTICE_EMBEDDINGS_DIMENSION')?.value).toBe('768');
      expect(envOf(served, 'LATTICE_EMBEDDINGS_API_KEY')?.valueFrom?.secretKeyRef).toEqual({
        name: 'embeddings',
        key: 'api-key',
      });
      expect(envOf(served, 'RAG_ANSWER_MODELS')?.value).toBe('llama-3-8b,mistral-7b');
      expect(envOf(served, 'RAG_ANSWER_TIMEOUT_MS')?.value).toBe('30000');
    });

    it('gives the audit service a heap of its own that fits under its memory limit', () => {
      const mib = (quantity: string) => {
        const [, n, unit] = /^(\d+)(Mi|Gi)$/.exec(quantity)!;
        return Number(n) * (unit === 'Gi' ? 1024 : 1);
      };
      const container = auditContainer([]);
      const options = envOf(container, 'NODE_OPTIONS')?.value ?? '';
      const flag = (name: string) => Number(new RegExp(`--${name}=(\\d+)`).exec(options)?.[1]);
      const heap = flag('max-old-space-size') + 3 * flag('max-semi-space-size');
      expect(heap).toBeGreaterThan(0);
      // room beside the heap for code, buffers and native memory
      expect(heap).toBeLessThan(mib(container.resources!.limits!.memory!) * 0.75);
      expect(
        envOf(
          auditContainer(['--set', 'audit.nodeOptions=--max-old-space-size=512']),
          'NODE_OPTIONS',
        )?.value,
      ).toBe('--max-old-space-size=512');
      expect(
        envOf(auditContainer(['--set', 'audit.nodeOptions=']), 'NODE_OPTIONS'),
      ).toBeUndefined();
    });

    it('is among the services a GDPR request waits for only while the release runs it', () => {
      const gdpr = (args: string[]) => envOf(auditContainer(args), 'AUDIT_GDPR_SERVICES')?.value;
      expect(gdpr([])).toBe('audit,auth,rag');
      expect(gdpr(['--set', 'rag.enabled=false'])).toBe('audit,auth');
    });
  });

  describe('images', () => {
    it('names each image <registry>/<repository>:<tag>, a service overriding its own', () => {
      const docs = renderChart(
        [
          '--set',
          'image.registry=registry.example.test/team',
          '--set',
          'image.tag=1.2.3',
          '--set',
          'gateway.image.repository=custom/gw',
          '--set',
          'gateway.image.tag=dev-abc',
        ],
        home,
      );
      const image = (kind: string, name: string) =>
        named(docs, kind, name)!.spec.template.spec.containers[0]!.image;
      expect(image('Deployment', 'lattice-gateway')).toBe(
        'registry.example.test/team/custom/gw:dev-abc',
      );
      expect(image('Deployment', 'lattice-tenants')).toBe(
        'registry.example.test/team/lattice/tenants:1.2.3',
      );
      expect(image('DaemonSet', 'lattice-gpu-agent')).toBe(
        'registry.example.test/team/lattice/gpu-agent:1.2.3',
      );
    });
  });

  describe('the values files in ci/', () => {
    it('bundled: a PostgreSQL and a NATS of its own, migrated after they exist', () => {
      const docs = renderChart(['-f', join(CHART_DIR, 'ci/bundled-values.yaml')], home);
      const pg = named(docs, 'StatefulSet', 'lattice-postgresql')!;
      expect(pg.spec.template.spec.containers[0]!.image).toBe(
        'docker.io/pgvector/pgvector:0.8.1-pg17',
      );
      expect(named(docs, 'StatefulSet', 'lattice-nats')).toBeDefined();
      const job = named(docs, 'Job', 'lattice-migrations')!;
      expect(job.metadata.annotations?.['helm.sh/hook']).toBe('post-install,pre-upgrade');
      const secret = withData(docs, 'Secret', 'lattice-secrets');
      const url = Buffer.from(secret.data['database-url']!, 'base64').toString();
      const password = Buffer.from(secret.data['postgres-password']!, 'base64').toString();
      expect(url).toBe(`postgres://postgres:${password}@lattice-postgresql:5432/lattice`);
      expect(byKind(docs, 'Ingress')).toHaveLength(1);
      const dashboard = JSON.parse(
        withData(docs, 'ConfigMap', 'lattice-dashboard').data['lattice.json']!,
      ) as { uid: string; panels: { targets: { expr: string }[] }[] };
      expect(dashboard.uid).toBe('lattice-overview');
      const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
      expect(exprs).toContain('lattice_gateway_http_request_duration_seconds_count');
      expect(exprs).toContain('lattice_operator_desired_replicas');
      // a user per service where the chart holds the permissions file, else no authorization
      const conf = withData(docs, 'ConfigMap', 'lattice-nats').data['nats.conf']!;
      expect(conf).toContain('jetstream');
      const permissions = existsSync(join(CHART_DIR, 'files/nats-permissions.json'));
      expect(conf.includes('authorization {')).toBe(permissions);
      if (permissions) {
        // then every service connects as its own user, or the server would refuse it
        for (const app of appNames()) {
          const workload = docs.find(
            (d) =>
              ['Deployment', 'DaemonSet'].includes(d.kind) && d.metadata.name === `lattice-${app}`,
          ) as Workload;
          const c = workload.spec.template.spec.containers[0]!;
          expect([app, envOf(c, 'NATS_URL')?.value]).toEqual([app, 'nats://lattice-nats:4222']);
          expect([app, envOf(c, 'LATTICE_NATS_USER')?.value]).toEqual([app, app]);
          expect(envOf(c, 'LATTICE_NATS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
            name: 'lattice-secrets',
            key: `nats-password-${app}`,
          });
          expect(Buffer.from(secret.data[`nats-password-${app}`]!, 'base64').toString()).toMatch(
            /^[A-Za-z0-9]{32}$/,
          );
        }
      }
    });

    it('high availability: every default policy, TLS, and monitoring where its API exists', () => {
      const docs = renderChart(
        ['-f', join(CHART_DIR, 'ci/ha-values.yaml'), '--api-versions', 'monitoring.coreos.com/v1'],
        home,
      );
      // the context keys come from the Secret the values name: no hook Job
      expect(named(docs, 'Job', 'lattice-context-keys')).toBeUndefined();
      const policy = (name: string) =>
        named(docs, 'ScalingPolicy', name) as unknown as { spec: Record<string, unknown> };
      expect(policy('lattice-inference').spec).toMatchObject({
        scaleTargetRef: { kind: 'StatefulSet', name: 'inference-a100' },
        minReplicas: 1,
        maxReplicas: 4,
        metrics: [
          { type: 'queue', queue: { source: 'Scheduler', name: 'inference' } },
          { type: 'gpuMemory', gpuMemory: { measure: 'UsedPercent', target: 90 } },
          { type: 'gpuMemory', gpuMemory: { measure: 'FreeMiB', target: 2048 } },
        ],
      });
      expect(policy('lattice-workers').spec).toMatchObject({
        minReplicas: 2,
        maxReplicas: 20,
        metrics: [{ type: 'queue', queue: { name: 'embeddings', targetPerReplica: 100 } }],
      });
      // one per service: the seven apps with an API, the agent, the inference worker and the operator
      expect(
        byKind(docs, 'ServiceMonitor')
          .map((m) => m.metadata.name)
          .sort(),
      ).toEqual(
        [
          'audit',
          'auth',
          'gateway',
          'gpu-agent',
          'gpu-nodes',
          'inference-worker',
          'operator',
          'rag',
          'scheduler',
          'tenants',
        ].map((a) => `lattice-${a}`),
      );
      const rule = byKind(docs, 'PrometheusRule')[0] as Manifest & {
        spec: { groups: { rules: { alert: string; expr: string }[] }[] };
      };
      const exprs = Object.fromEntries(rule.spec.groups[0]!.rules.map((r) => [r.alert, r.expr]));
      expect(exprs.LatticeGpuNodeUnhealthy).toContain('lattice_gpu_node_health_score');
      expect(exprs.LatticeGpuNodeUnhealthy).toContain('< 0.5');
      expect(exprs.LatticeFailedSignInsHigh).toContain(
        'lattice_gateway_http_request_duration_seconds_count',
      );
      expect(exprs.LatticeFailedSignInsHigh).toContain('> 100');
      expect(exprs.LatticeGpuVramLow).toContain('< 10');
      expect(exprs.LatticeAuditEventsDropped).toContain('lattice_audit_events_dropped_total');
      expect(Object.keys(exprs)).toEqual(
        expect.arrayContaining(['LatticeDatabaseUnreachable', 'LatticeNatsUnreachable']),
      );
      const ingress = byKind(docs, 'Ingress')[0] as Manifest & { spec: { tls: unknown[] } };
      expect(ingress.spec.tls).toEqual([
        { secretName: 'lattice-gateway-tls', hosts: ['api.lattice.example.test'] },
      ]);
      const gateway = named(docs, 'Deployment', 'lattice-gateway')!.spec.template.spec;
      expect(envOf(gateway.containers[0]!, 'REDIS_URL')?.valueFrom?.secretKeyRef).toEqual({
        name: 'lattice-redis',
        key: 'redis-url',
      });
      expect(envOf(gateway.containers[0]!, 'NATS_URL')?.valueFrom?.secretKeyRef).toEqual({
        name: 'lattice-nats',
        key: 'nats-url',
      });
    });

    it('minimal: the core services alone, with no operator and no GPU parts', () => {
      const docs = renderChart(['-f', join(CHART_DIR, 'ci/minimal-values.yaml')], home);
      expect(
        byKind(docs, 'Deployment')
          .map((d) => d.metadata.name)
          .sort(),
      ).toEqual(
        ['audit', 'auth', 'gateway', 'rag', 'scheduler', 'tenants'].map((a) => `lattice-${a}`),
      );
      expect(byKind(docs, 'DaemonSet')).toEqual([]);
      expect(byKind(docs, 'ClusterRole')).toEqual([]);
      expect(byKind(docs, 'PodDisruptionBudget')).toEqual([]);
      expect(byKind(docs, 'NetworkPolicy')).toEqual([]);
      const job = named(docs, 'Job', 'lattice-migrations')!.spec.template.spec;
      expect([...(job.initContainers ?? []), ...job.containers].map((c) => c.name)).toEqual([
        'tenants',
        'auth',
        'audit',
        'scheduler',
        'rag',
      ]);
    });
  });

  describe('the bundled NATS with per-service permissions', () => {
    /** `nats-server -t` of a rendered nats.conf, each user's password in the environment. */
    function checkNatsConfig(conf: string, users: string[], dir: string) {
      const confFile = join(dir, 'nats.conf');
      writeFileSync(confFile, conf.replace('/data', join(dir, 'jetstream')));
      const passwords = users.map((u) => [
        `NATS_PASSWORD_${u.toUpperCase().replaceAll('-', '_')}`,
        'a'.repeat(32),
      ]);
      return spawnSync(natsServerBinary(), ['--config', confFile, '-t'], {
        encoding: 'utf8',
        env: { ...process.env, ...Object.fromEntries(passwords) },
      });
    }

    it("renders the real files/nats-permissions.json, which nats-server accepts, as the apps' users", () => {
      const file = JSON.parse(
        readFileSync(join(CHART_DIR, 'files/nats-permissions.json'), 'utf8'),
      ) as { users: { service: string; allow_responses?: unknown }[] };
      const docs = renderChart(['-f', join(CHART_DIR, 'ci/bundled-values.yaml')], home);
      const conf = withData(docs, 'ConfigMap', 'lattice-nats').data['nats.conf']!;
      const rendered = [...conf.matchAll(/\{user: "([a-z-]+)"/g)].map((m) => m[1]!);
      // the users of the services the chart runs (an app of apps/): not the development
      // platform's GPU simulator, not a worker pool the chart does not deploy
      expect(rendered.sort()).toEqual(
        file.users
          .map((u) => u.service)
          .filter((s) => appNames().includes(s))
          .sort(),
      );
      expect(file.users.map((u) => u.service)).toEqual(
        expect.arrayContaining(['gpu-simulator', 'job-worker']),
      );
      expect(rendered).toEqual(expect.arrayContaining(appNames()));
      const responders = file.users.filter((u) => u.allow_responses).map((u) => u.service);
      expect(responders.length).toBeGreaterThan(0);
      for (const user of responders) {
        expect(conf).toMatch(new RegExp(`\\{user: "${user}", [^\\n]*"allow_responses":true`));
      }
      const dir = mkdtempSync(join(tmpdir(), 'lattice-nats-'));
      try {
        const check = checkNatsConfig(conf, rendered, dir);
        expect(check.stderr + check.stdout).toContain('is valid');
        expect(check.status).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const nats = named(docs, 'StatefulSet', 'lattice-nats')!.spec.template.spec.containers[0]!;
      expect(nats.env?.map((e) => e.name).sort()).toEqual(
        rendered.map((u) => `NATS_PASSWORD_${u.toUpperCase().replaceAll('-', '_')}`).sort(),
      );
      expect(envOf(nats, 'NATS_PASSWORD_GPU_AGENT')?.valueFrom?.secretKeyRef).toEqual({
        name: 'lattice-secrets',
        key: 'nats-password-gpu-agent',
      });
    });

    it('renders each user as the file gives it: service, publish, subscribe, allow_responses', () => {
      const chart = join(mkdtempSync(join(tmpdir(), 'lattice-chart-')), 'lattice');
      cpSync(CHART_DIR, chart, { recursive: true });
      const gateway = {
        publish: { allow: ['tenants.v1.>', '$JS.API.INFO'] },
        subscribe: { allow: ['_INBOX.>'] },
      };
      const tenants = {
        publish: { allow: ['audit.v1.events.>'] },
        subscribe: { allow: ['tenants.v1.>'] },
        allow_responses: true,
      };
      const permissions = {
        users: [
          { service: 'gateway', ...gateway },
          { service: 'tenants', ...tenants },
          { service: 'gpu-simulator', publish: { allow: ['>'] }, subscribe: { allow: ['>'] } },
        ],
      };
      writeFileSync(join(chart, 'files/nats-permissions.json'), JSON.stringify(permissions));
      try {
        const docs = renderChart(['-f', join(CHART_DIR, 'ci/bundled-values.yaml')], home, {
          chart,
        });
        const conf = withData(docs, 'ConfigMap', 'lattice-nats').data['nats.conf']!;
        expect(conf).toContain(
          `{user: "gateway", password: $NATS_PASSWORD_GATEWAY, permissions: ${JSON.stringify(gateway)}}`,
        );
        const { allow_responses, ...rest } = tenants;
        expect(conf).toContain(
          `{user: "tenants", password: $NATS_PASSWORD_TENANTS, permissions: ${JSON.stringify({ allow_responses, ...rest })}}`,
        );
        expect(conf).not.toContain('gpu-simulator');
        const check = checkNatsConfig(conf, ['gateway', 'tenants'], chart);
        expect(check.stderr + check.stdout).toContain('is valid');
        expect(check.status).toBe(0);
        // the services the file has no user for connect without one (and the server refuses them)
        const audit = named(docs, 'Deployment', 'lattice-audit')!.spec.template.spec;
        expect(envOf(audit.containers[0]!, 'LATTICE_NATS_USER')).toBeUndefined();
        const secret = withData(docs, 'Secret', 'lattice-secrets');
        expect(
          Object.keys(secret.data)
            .filter((k) => k.startsWith('nats-'))
            .sort(),
        ).toEqual(['nats-password-gateway', 'nats-password-tenants']);
      } finally {
        rmSync(chart, { recursive: true, force: true });
      }
    });

    it('external NATS: each service its user and its password from the Secret the values name', () => {
      const docs = renderChart(
        ['--set', 'nats.external.auth.existingSecret=lattice-nats-users'],
        home,
      );
      for (const app of appNames()) {
        const workload = docs.find(
          (d) =>
            ['Deployment', 'DaemonSet'].includes(d.kind) && d.metadata.name === `lattice-${app}`,
        ) as Workload;
        const c = workload.spec.template.spec.containers[0]!;
        expect([app, envOf(c, 'LATTICE_NATS_USER')?.value]).toEqual([app, app]);
        expect(envOf(c, 'LATTICE_NATS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
          name: 'lattice-nats-users',
          key: `nats-password-${app}`,
        });
      }
      expect(named(docs, 'StatefulSet', 'lattice-nats')).toBeUndefined();
    });
  });

  describe('its schema', () => {
    it.each([
      ['gateway.replicaCount=two', /gateway[./]replicaCount/],
      ['gateway.enabled=maybe', /gateway[./]enabled/],
      ['networkPolicy.enabled=yes', /networkPolicy[./]enabled/],
      ['scalingPolicies.api.maxReplicas=ten', /scalingPolicies[./]api[./]maxReplicas/],
    ])('refuses %s, naming the field', (set, field) => {
      const result = helm(['template', 'lattice', CHART_DIR, '--set', set], home);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(field);
    });

    it('refuses values with neither an external nor a bundled database, saying what to set', () => {
      const result = helm(
        ['template', 'lattice', CHART_DIR, '--set', 'postgresql.external.existingSecret='],
        home,
      );
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain(
        'postgresql.external.url or postgresql.external.existingSecret',
      );
    });
  });

  describe('k8s/, the plain-manifest view', () => {
    it('grants the operator exactly the rules k8s/operator/rbac.yaml proves', () => {
      const docs = renderChart([], home);
      const plain = parseManifests(readFileSync(join(REPO_ROOT, 'k8s/operator/rbac.yaml'), 'utf8'));
      const rules = (list: Manifest[], kind: string) =>
        (list.find((d) => d.kind === kind) as Manifest & { rules: { resourceNames?: string[] }[] })
          .rules;
      expect(rules(docs, 'ClusterRole')).toEqual(rules(plain, 'ClusterRole'));
      // the Lease is named after the release in the chart
      const strip = (r: { resourceNames?: string[] }[]) =>
        r.map(({ resourceNames, ...rest }) => ({ ...rest, named: Boolean(resourceNames) }));
      expect(strip(rules(docs, 'Role'))).toEqual(strip(rules(plain, 'Role')));
      expect(rules(docs, 'Role')[1]!.resourceNames).toEqual(['lattice-operator']);
      const operator = named(docs, 'Deployment', 'lattice-operator')!.spec.template.spec;
      expect(envOf(operator.containers[0]!, 'OPERATOR_LEASE_NAME')?.value).toBe('lattice-operator');
    });
  });
});
