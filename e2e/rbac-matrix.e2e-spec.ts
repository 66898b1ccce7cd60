import { randomUUID } from 'node:crypto';
import {
  GpuAgentHeartbeat,
  INFERENCE_QUEUES,
  SchedulerJobsFail,
  SchedulerJobsLease,
  SchedulerWorkersRegister,
} from '@lattice/contracts';
import { createLogger } from '@lattice/logging';
import { EventBus, RpcClient, SubjectNamespace, connectNats } from '@lattice/messaging';
import { serviceContext } from '@lattice/request-context';
import { testGatewaySigner } from '@lattice/testing';
import {
  E2E_MEMBER_PASSWORD,
  E2E_WORKER,
  startE2EPlatform,
  type E2EPlatform,
  type E2ETenant,
} from './support/platform.harness';

jest.setTimeout(120_000);

const PLATFORM_ROLES = ['platform-admin', 'platform-operator'] as const;
const TENANT_ROLES = [
  'tenant-owner',
  'tenant-admin',
  'developer',
  'analyst',
  'viewer',
  'billing',
  'auditor',
  'service-account',
] as const;
type Role = (typeof PLATFORM_ROLES)[number] | (typeof TENANT_ROLES)[number];
const ALL: Role[] = [...PLATFORM_ROLES, ...TENANT_ROLES];

interface Probe {
  name: string;
  /** The route as the OpenAPI document names it, so coverage can be checked against it. */
  route: string;
  method: string;
  path: (ids: { own: string; other: string }) => string;
  /** Bodies are empty or invalid on purpose: a permitted call ends in 400, never in a write. */
  json?: unknown;
  allowed: Role[];
  /** The first call let through changes what follows (closing the tenant): permitted roles try it with their token only. */
  destructive?: boolean;
}

const some = randomUUID();
const PLATFORM_TENANT = '00000000-0000-0000-0000-000000000000';
const USER_READERS: Role[] = [
  'platform-admin',
  'platform-operator',
  'tenant-owner',
  'tenant-admin',
  'developer',
  'viewer',
  'auditor',
];
const AUDIT_READERS: Role[] = [
  'platform-admin',
  'platform-operator',
  'tenant-owner',
  'tenant-admin',
  'auditor',
];
const JOB_READERS: Role[] = [
  'platform-admin',
  'platform-operator',
  'tenant-owner',
  'tenant-admin',
  'developer',
  'analyst',
  'viewer',
  'service-account',
];
const JOB_WRITERS: Role[] = ['platform-admin', 'tenant-owner', 'tenant-admin', 'developer'];
const PLATFORM_ONLY: Role[] = ['platform-admin', 'platform-operator'];
const LEASE_HOLDERS: Role[] = [
  'platform-admin',
  'tenant-owner',
  'tenant-admin',
  'developer',
  'service-account',
];
const COLLECTION_READERS: Role[] = [
  'platform-admin',
  'tenant-owner',
  'tenant-admin',
  'developer',
  'analyst',
  'viewer',
  'service-account',
];
const COLLECTION_WRITERS: Role[] = ['platform-admin', 'tenant-owner', 'tenant-admin', 'developer'];
const DOCUMENT_CREATORS: Role[] = [...COLLECTION_WRITERS, 'service-account'];
/** Asking a collection: those who may query it (and so submit its answer job). */
const COLLECTION_ASKERS: Role[] = [...COLLECTION_WRITERS, 'service-account'];
const USAGE_READERS: Role[] = [
  'platform-admin',
  'platform-operator',
  'tenant-owner',
  'tenant-admin',
  'developer',
  'analyst',
  'billing',
];
/**
 * Who may call what, written out from the role definitions: each route either lets a role
 * through (whatever the service then answers) or refuses it with 403 at the gateway.
 */
const PROBES: Probe[] = [
  {
    name: 'create a tenant',
    route: 'POST /v1/tenants',
    method: 'POST',
    path: () => '/v1/tenants',
    json: {},
    allowed: ['platform-admin'],
  },
  {
    name: 'list tenants',
    route: 'GET /v1/tenants',
    method: 'GET',
    path: () => '/v1/tenants',
    allowed: ALL,
  },
  {
    name: 'read its tenant',
    route: 'GET /v1/tenants/{id}',
    method: 'GET',
    path: (t) => `/v1/tenants/${t.own}`,
    allowed: ALL,
  },
  {
    name: 'read another tenant',
    route: 'GET /v1/tenants/{id}',
    method: 'GET',
    path: (t) => `/v1/tenants/${t.other}`,
    allowed: ['platform-admin', 'platform-operator'],
  },
  {
    name: 'rename its tenant',
    route: 'PATCH /v1/tenants/{id}',
    method: 'PATCH',
    path: (t) => `/v1/tenants/${t.own}`,
    json: { name: '' },
    allowed: ['platform-admin', 'platform-operator', 'tenant-owner', 'tenant-admin', 'billing'],
  },
  {
    name: 'suspend a tenant',
    route: 'POST /v1/tenants/{id}/suspend',
    method: 'POST',
    path: () => `/v1/tenants/${some}/suspend`,
    allowed: ['platform-admin', 'platform-operator'],
  },
  {
    name: 'read its usage',
    route: 'GET /v1/tenants/{id}/usage',
    method: 'GET',
    path: (t) => `/v1/tenants/${t.own}/usage`,
    allowed: [
      'platform-admin',
      'platform-operator',
      'tenant-owner',
      'tenant-admin',
      'developer',
      'analyst',
      'billing',
    ],
  },
  {
    name: 'create a user',
    route: 'POST /v1/users',
    method: 'POST',
    path: () => '/v1/users',
    json: {},
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin'],
  },
  {
    name: 'list users',
    route: 'GET /v1/users',
    method: 'GET',
    path: () => '/v1/users',
    allowed: USER_READERS,
  },
  {
    name: 'disable a user',
    route: 'POST /v1/users/{id}/disable',
    method: 'POST',
    path: () => `/v1/users/${some}/disable`,
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin'],
  },
  {
    name: 'list roles',
    route: 'GET /v1/roles',
    method: 'GET',
    path: () => '/v1/roles',
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin', 'auditor'],
  },
  {
    name: 'define a role',
    route: 'POST /v1/roles',
    method: 'POST',
    path: () => '/v1/roles',
    json: {},
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin'],
  },
  {
    name: 'delete a role',
    route: 'DELETE /v1/roles/{name}',
    method: 'DELETE',
    path: () => '/v1/roles/no-such-role',
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin'],
  },
  {
    name: 'grant a role',
    route: 'POST /v1/role-bindings',
    method: 'POST',
    path: () => '/v1/role-bindings',
    json: {},
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin'],
  },
  {
    name: 'create a service account',
    route: 'POST /v1/service-accounts',
    method: 'POST',
    path: () => '/v1/service-accounts',
    json: {},
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin'],
  },
  {
    name: 'list service accounts',
    route: 'GET /v1/service-accounts',
    method: 'GET',
    path: () => '/v1/service-accounts',
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin', 'auditor'],
  },
  {
    name: 'create an API key',
    route: 'POST /v1/api-keys',
    method: 'POST',
    path: () => '/v1/api-keys',
    json: {},
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin', 'developer'],
  },
  {
    name: 'list API keys',
    route: 'GET /v1/api-keys',
    method: 'GET',
    path: () => '/v1/api-keys',
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin', 'developer', 'auditor'],
  },
  {
    name: 'revoke an API key',
    route: 'DELETE /v1/api-keys/{id}',
    method: 'DELETE',
    path: () => `/v1/api-keys/${some}`,
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin', 'developer'],
  },
  {
    name: 'say who it is',
    route: 'GET /v1/auth/me',
    method: 'GET',
    path: () => '/v1/auth/me',
    allowed: ALL,
  },
  {
    name: 'rotate the signing keys',
    route: 'POST /v1/auth/signing-keys/rotate',
    method: 'POST',
    path: () => '/v1/auth/signing-keys/rotate',
    allowed: ['platform-admin'],
  },
  {
    name: 'read a tenant by slug',
    route: 'GET /v1/tenants/by-slug/{slug}',
    method: 'GET',
    path: () => '/v1/tenants/by-slug/no-such-tenant',
    allowed: ALL,
  },
  {
    name: 'reactivate a tenant',
    route: 'POST /v1/tenants/{id}/reactivate',
    method: 'POST',
    path: () => `/v1/tenants/${some}/reactivate`,
    allowed: ['platform-admin', 'platform-operator'],
  },
  {
    name: 'read a user',
    route: 'GET /v1/users/{id}',
    method: 'GET',
    path: () => `/v1/users/${some}`,
    allowed: USER_READERS,
  },
  {
    name: 'enable a user',
    route: 'POST /v1/users/{id}/enable',
    method: 'POST',
    path: () => `/v1/users/${some}/enable`,
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin'],
  },
  {
    name: 'revoke a role',
    route: 'POST /v1/role-bindings/revoke',
    method: 'POST',
    path: () => '/v1/role-bindings/revoke',
    json: {},
    allowed: ['platform-admin', 'tenant-owner', 'tenant-admin'],
  },
  {
    name: 'read the audit trail',
    route: 'GET /v1/audit-events',
    method: 'GET',
    path: () => '/v1/audit-events?limit=1',
    allowed: AUDIT_READERS,
  },
  {
    name: 'export the audit trail',
    route: 'GET /v1/audit-events/export',
    method: 'GET',
    path: () => '/v1/audit-events/export',
    allowed: AUDIT_READERS,
  },
  {
    name: 'verify the audit chain',
    route: 'POST /v1/audit-events/verify',
    method: 'POST',
    path: () => '/v1/audit-events/verify',
    json: { tenantId: 'not-a-uuid' },
    allowed: AUDIT_READERS,
  },
  {
    name: 'declare a queue',
    route: 'POST /v1/queues',
    method: 'POST',
    path: () => '/v1/queues',
    json: {},
    allowed: ['platform-admin', 'platform-operator'],
  },
  {
    name: 'list queues',
    route: 'GET /v1/queues',
    method: 'GET',
    path: () => '/v1/queues',
    allowed: JOB_READERS,
  },
  {
    name: 'read a queue',
    route: 'GET /v1/queues/{name}',
    method: 'GET',
    path: () => '/v1/queues/no-such-queue',
    allowed: JOB_READERS,
  },
  {
    name: 'list GPU nodes',
    route: 'GET /v1/gpu/nodes',
    method: 'GET',
    path: () => '/v1/gpu/nodes',
    allowed: PLATFORM_ONLY,
  },
  {
    name: 'register a GPU node',
    route: 'POST /v1/gpu/nodes',
    method: 'POST',
    path: () => '/v1/gpu/nodes',
    json: {},
    allowed: PLATFORM_ONLY,
  },
  {
    name: 'read a GPU node',
    route: 'GET /v1/gpu/nodes/{id}',
    method: 'GET',
    path: () => `/v1/gpu/nodes/${some}`,
    allowed: PLATFORM_ONLY,
  },
  {
    name: 'drain a GPU node',
    route: 'POST /v1/gpu/nodes/{id}/drain',
    method: 'POST',
    path: () => `/v1/gpu/nodes/${some}/drain`,
    allowed: PLATFORM_ONLY,
  },
  {
    name: 'read the GPU fleet status',
    route: 'GET /v1/gpu/status',
    method: 'GET',
    path: () => '/v1/gpu/status',
    allowed: PLATFORM_ONLY,
  },
  {
    name: 'lease VRAM',
    route: 'POST /v1/gpu/leases',
    method: 'POST',
    path: () => '/v1/gpu/leases',
    json: {},
    allowed: LEASE_HOLDERS,
  },
  {
    name: 'release a VRAM lease',
    route: 'DELETE /v1/gpu/leases/{id}',
    method: 'DELETE',
    path: () => `/v1/gpu/leases/${some}`,
    allowed: LEASE_HOLDERS,
  },
  {
    name: 'create a collection',
    route: 'POST /v1/collections',
    method: 'POST',
    path: () => '/v1/collections',
    json: {},
    allowed: COLLECTION_WRITERS,
  },
  {
    name: 'list collections',
    route: 'GET /v1/collections',
    method: 'GET',
    path: () => '/v1/collections?limit=1',
    allowed: COLLECTION_READERS,
  },
  {
    name: 'read a collection',
    route: 'GET /v1/collections/{id}',
    method: 'GET',
    path: () => `/v1/collections/${some}`,
    allowed: COLLECTION_READERS,
  },
  {
    name: 'delete a collection',
    route: 'DELETE /v1/collections/{id}',
    method: 'DELETE',
    path: () => `/v1/collections/${some}`,
    allowed: COLLECTION_WRITERS,
  },
  {
    name: 'add a document',
    route: 'POST /v1/collections/{id}/documents',
    method: 'POST',
    path: () => `/v1/collections/${some}/documents`,
    json: {},
    allowed: DOCUMENT_CREATORS,
  },
  {
    name: 'ask a collection',
    route: 'POST /v1/rag/query',
    method: 'POST',
    path: () => '/v1/rag/query',
    json: {},
    allowed: COLLECTION_ASKERS,
  },
  {
    name: 'read the token reconciliation',
    route: 'GET /v1/rag/usage/reconciliation',
    method: 'GET',
    path: () => '/v1/rag/usage/reconciliation?from=not-a-day',
    allowed: USAGE_READERS,
  },
  {
    name: 'list documents',
    route: 'GET /v1/collections/{id}/documents',
    method: 'GET',
    path: () => `/v1/collections/${some}/documents?limit=1`,
    allowed: COLLECTION_READERS,
  },
  {
    name: 'read a document',
    route: 'GET /v1/collections/{id}/documents/{docId}',
    method: 'GET',
    path: () => `/v1/collections/${some}/documents/${some}`,
    allowed: COLLECTION_READERS,
  },
  {
    name: 'delete a document',
    route: 'DELETE /v1/collections/{id}/documents/{docId}',
    method: 'DELETE',
    path: () => `/v1/collections/${some}/documents/${some}`,
    allowed: COLLECTION_WRITERS,
  },
  {
    name: 'read the cluster status',
    route: 'GET /v1/cluster/status',
    method: 'GET',
    path: () => '/v1/cluster/status',
    allowed: PLATFORM_ONLY,
  },
  {
    name: 'submit a job',
    route: 'POST /v1/jobs',
    method: 'POST',
    path: () => '/v1/jobs',
    json: {},
    allowed: [...JOB_WRITERS, 'service-account'],
  },
  {
    name: 'list jobs',
    route: 'GET /v1/jobs',
    method: 'GET',
    path: () => '/v1/jobs?limit=1',
    allowed: JOB_READERS,
  },
  {
    name: 'read a job',
    route: 'GET /v1/jobs/{id}',
    method: 'GET',
    path: () => `/v1/jobs/${some}`,
    allowed: JOB_READERS,
  },
  {
    name: 'cancel a job',
    route: 'POST /v1/jobs/{id}/cancel',
    method: 'POST',
    path: () => `/v1/jobs/${some}/cancel`,
    allowed: JOB_WRITERS,
  },
  {
    name: 'list dead letters',
    route: 'GET /v1/dead-letters',
    method: 'GET',
    path: () => '/v1/dead-letters?limit=1',
    allowed: JOB_READERS,
  },
  {
    name: 'retry a dead letter',
    route: 'POST /v1/dead-letters/{id}/retry',
    method: 'POST',
    path: () => `/v1/dead-letters/${some}/retry`,
    allowed: JOB_WRITERS,
  },
  {
    name: 'delete its tenant',
    route: 'DELETE /v1/tenants/{id}',
    method: 'DELETE',
    path: (t) => `/v1/tenants/${t.own}`,
    allowed: ['platform-admin', 'tenant-owner'],
    destructive: true,
  },
];

describe('every role on every route', () => {
  let platform: E2EPlatform;
  const tokens = new Map<Role, string>();
  const keys = new Map<Role, string>();
  const ids = { own: '', other: '' };
  const slugs = { own: '', other: '' };
  const password = E2E_MEMBER_PASSWORD;

  const tenant = (plan = 'enterprise') => platform.newTenant({ plan, slugPrefix: 'rbac' });

  const member = async (t: E2ETenant, role: string): Promise<string> =>
    (await platform.newMember(t, [role])).token;

  beforeAll(async () => {
    platform = await startE2EPlatform();
    const own = await tenant();
    const other = await tenant();
    ids.own = own.id;
    ids.other = other.id;
    slugs.own = own.slug;
    slugs.other = other.slug;
    const platformTenant = { id: PLATFORM_TENANT, slug: 'platform' };
    for (const role of PLATFORM_ROLES) tokens.set(role, await member(platformTenant, role));
    for (const role of TENANT_ROLES) tokens.set(role, await member(own, role));

    // API keys carrying their owner's permissions must be let through exactly as the owner is;
    // the service-account role is held by a real service account acting through its key
    for (const role of ['tenant-owner', 'tenant-admin', 'developer'] as const)
      keys.set(role, await apiKey(tokens.get(role)!, {}));
    const account = await platform.call('/v1/service-accounts', {
      method: 'POST',
      token: tokens.get('tenant-admin'),
      json: { name: 'rbac-worker', roles: ['service-account'] },
    });
    expect(account.status).toBe(201);
    keys.set(
      'service-account',
      await apiKey(tokens.get('tenant-admin')!, { serviceAccountId: (await account.json()).id }),
    );
  });

  async function apiKey(token: string, body: Record<string, unknown>): Promise<string> {
    const created = await platform.call('/v1/api-keys', {
      method: 'POST',
      token,
      json: { name: `rbac-${randomUUID().slice(0, 6)}`, ...body },
    });
    expect(created.status).toBe(201);
    return (await created.json()).key as string;
  }
  afterAll(() => platform?.stop());

  /** What the gateway did: let the call through to the service, or refuse it itself. */
  function outcome(status: number): string {
    if (status === 403) return 'denied';
    // a permitted call ends in success, or in the service's answer to a bad id or body
    if ([200, 201, 204, 400, 404, 409].includes(status)) return 'allowed';
    return `answered ${status}`;
  }

  /** A request of a success path: it must answer 2xx. */
  interface Step {
    method: string;
    path: string;
    json?: unknown;
    /** What happens outside the API before the request (a worker failing a job). */
    before?: () => Promise<void>;
  }
  const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
  const isPlatform = (role: Role) => (PLATFORM_ROLES as readonly Role[]).includes(role);

  async function userIn(tenantId: string, roles: string[]): Promise<string> {
    const created = await platform.call('/v1/users', {
      method: 'POST',
      json: { tenantId, email: `${unique('target')}@example.com`, password, roles },
    });
    expect(created.status).toBe(201);
    return (await created.json()).id as string;
  }

  // before the matrix below, which ends by closing the tenant these calls work in
  it('answers a real, valid request with success for every role that holds the permission', async () => {
    // a user of the caller's own tenant: a user id alone names a user there (the platform's
    // roles name no other tenant on these routes)
    const targets = {
      tenant: await userIn(ids.own, ['viewer']),
      platform: await userIn(PLATFORM_TENANT, []),
    };
    const target = targets.tenant;
    const targetOf = (role: Role) => (isPlatform(role) ? targets.platform : targets.tenant);
    const scratch = await tenant();
    const closing = await tenant();
    const ownedToClose = await tenant();
    const closingOwner = await member(ownedToClose, 'tenant-owner');
    /** Where a tenant-level call of a platform role is aimed: it names the tenant. */
    const aim = (role: Role) => (isPlatform(role) ? { tenantId: ids.own } : {});

    // the scheduler: a queue for the jobs the probes submit, and one a worker fails jobs on
    const jobsQueue = unique('rbac-jobs');
    const deadQueue = unique('rbac-dead');
    for (const name of [jobsQueue, deadQueue]) {
      const made = await platform.call('/v1/queues', {
        method: 'POST',
        json: { name, workerPool: 'rbac-workers' },
      });
      expect(made.status).toBe(201);
    }
    // a job of the tenant the probes work in, for the roles that read jobs but submit none
    const seeded = await platform.call('/v1/jobs', {
      method: 'POST',
      json: { queue: jobsQueue, type: 'probe', tenantId: ids.own },
    });
    expect(seeded.status).toBe(201);
    const seededJob = (await seeded.json()).id as string;
    const JOB_SUBMITTERS: Role[] = [...JOB_WRITERS, 'service-account'];
    // a collection with one public document in the tenant the probes work in, for the readers
    const newCollection = (role: Role): Step => ({
      method: 'POST',
      path: '/v1/collections',
      json: {
        name: unique('rbac'),
        embeddingModel: 'rbac-embedder',
        embeddingDimension: 8,
        ...aim(role),
      },
    });
    const seededCollection = await platform.call('/v1/collections', {
      method: 'POST',
      json: {
        name: unique('rbac-seed'),
        embeddingModel: 'rbac-embedder',
        embeddingDimension: 8,
        tenantId: ids.own,
      },
    });
    expect(seededCollection.status).toBe(201);
    const collectionId = (await seededCollection.json()).id as string;
    const addDocument = (role: Role): Step => ({
      method: 'POST',
      path: `/v1/collections/${collectionId}/documents`,
      json: {
        sourceName: 'probe.txt',
        mediaType: 'text/plain',
        content: unique('a public note'),
        classification: 'public',
        ...aim(role),
      },
    });
    const seededDocument = await platform.call(`/v1/collections/${collectionId}/documents`, {
      method: 'POST',
      json: {
        sourceName: 'seed.txt',
        mediaType: 'text/plain',
        content: 'seeded',
        classification: 'public',
        tenantId: ids.own,
      },
    });
    expect(seededDocument.status).toBe(201);
    const documentId = (await seededDocument.json()).id as string;
    // a collection embedded by the model the RAG service embeds questions with, and the
    // interactive inference queue its answers go to: an empty collection is answered "not known"
    const answerQueue = await platform.call('/v1/queues', {
      method: 'POST',
      json: INFERENCE_QUEUES[0],
    });
    expect([201, 409]).toContain(answerQueue.status);
    const askedCollection = await platform.call('/v1/collections', {
      method: 'POST',
      json: {
        name: unique('rbac-asked'),
        embeddingModel: 'universal-sentence-encoder-lite',
        embeddingDimension: 512,
        tenantId: ids.own,
      },
    });
    expect(askedCollection.status).toBe(201);
    const askedCollectionId = (await askedCollection.json()).id as string;
    /** The query naming the tenant a platform role's job call acts on. */
    const onTenant = (role: Role) => (isPlatform(role) ? `?tenantId=${ids.own}` : '');
    const submitJob = (role: Role, extra: Record<string, unknown> = {}): Step => ({
      method: 'POST',
      path: '/v1/jobs',
      json: { queue: jobsQueue, type: 'probe', ...aim(role), ...extra },
    });
    /** A worker, as the scheduler's workers speak over NATS, fails every job waiting. */
    const failWaitingJobs = async () => {
      const nc = await connectNats(
        platform.natsUrl,
        'rbac-worker',
        platform.natsCredentialsOf(E2E_WORKER.service),
      );
      try {
        const rpc = new RpcClient(
          nc,
          testGatewaySigner(),
          new SubjectNamespace(platform.namespace),
        );
        const ctx = serviceContext('rbac-worker');
        const workerId = 'rbac-worker';
        await rpc.request(
          SchedulerWorkersRegister,
          { workerId, queue: deadQueue, concurrency: 10 },
          ctx,
        );
        const { jobs } = await rpc.request(
          SchedulerJobsLease,
          { workerId, queue: deadQueue, max: 10 },
          ctx,
        );
        expect(jobs.length).toBeGreaterThan(0);
        for (const job of jobs)
          await rpc.request(
            SchedulerJobsFail,
            { workerId, jobId: job.id, error: 'probe', retryable: true },
            ctx,
          );
      } finally {
        await nc.drain();
      }
    };

    // a GPU node beating as its agent would, with room for every role's lease; its interval is
    // long, so it stays in routing however slow the run
    const gpuNode = unique('rbac-gpu');
    {
      const nc = await connectNats(
        platform.natsUrl,
        'rbac-gpu-agent',
        platform.natsCredentialsOf('gpu-agent'),
      );
      const bus = new EventBus(
        nc,
        new SubjectNamespace(platform.namespace),
        createLogger('rbac-gpu-agent', 'silent'),
      );
      bus.publish(GpuAgentHeartbeat, {
        node: gpuNode,
        kubeNode: null,
        source: 'nvidia-smi',
        driverVersion: '535.183.01',
        sampledAt: new Date().toISOString(),
        intervalMs: 3_600_000,
        gpus: [0, 1].map((index) => ({
          uuid: `GPU-${gpuNode}-${index}`,
          index,
          model: 'Tesla V100-SXM2-32GB',
          pciBusId: null,
          totalMiB: 32_480,
          usedMiB: 0,
          freeMiB: 32_480,
          reservedMiB: 0,
          utilizationPercent: 0,
          temperatureC: 40,
          slowdownTemperatureC: 87,
          powerWatts: 40,
          lastXid: 0,
          eccUncorrectable: 0,
          remappedRowsUncorrectable: 0,
          rowRemapFailed: false,
          lost: false,
        })),
        sourceError: null,
      });
      await nc.drain();
    }
    const leaseVram = (role: Role): Step => ({
      method: 'POST',
      path: '/v1/gpu/leases',
      json: { vramMiB: 1_000, ttlSeconds: 60, ...aim(role) },
    });
    const registerNode = (): Step => ({
      method: 'POST',
      path: '/v1/gpu/nodes',
      json: { name: unique('rbac-node'), labels: { pool: 'rbac' } },
    });

    /** One real request (or a short sequence) per permission, as `role` would make it. */
    const SUCCESS: Record<string, (role: Role) => Step[]> = {
      'create a tenant': () => {
        const slug = unique('ok');
        return [
          { method: 'POST', path: '/v1/tenants', json: { slug, name: slug, plan: 'starter' } },
        ];
      },
      'list tenants': () => [{ method: 'GET', path: '/v1/tenants' }],
      'read its tenant': () => [{ method: 'GET', path: `/v1/tenants/${ids.own}` }],
      'read another tenant': () => [{ method: 'GET', path: `/v1/tenants/${ids.other}` }],
      'rename its tenant': (role) => [
        { method: 'PATCH', path: `/v1/tenants/${ids.own}`, json: { name: `renamed by ${role}` } },
      ],
      'suspend a tenant': () => [
        { method: 'POST', path: `/v1/tenants/${scratch.id}/suspend` },
        { method: 'POST', path: `/v1/tenants/${scratch.id}/reactivate` },
      ],
      'reactivate a tenant': () => [
        { method: 'POST', path: `/v1/tenants/${scratch.id}/suspend` },
        { method: 'POST', path: `/v1/tenants/${scratch.id}/reactivate` },
      ],
      'read its usage': () => [{ method: 'GET', path: `/v1/tenants/${ids.own}/usage` }],
      'create a user': (role) => [
        {
          method: 'POST',
          path: '/v1/users',
          json: { ...aim(role), email: `${unique(role)}@example.com`, password, roles: ['viewer'] },
        },
      ],
      'list users': () => [{ method: 'GET', path: '/v1/users' }],
      'read a user': (role) => [{ method: 'GET', path: `/v1/users/${targetOf(role)}` }],
      'disable a user': (role) => [
        { method: 'POST', path: `/v1/users/${targetOf(role)}/disable` },
        { method: 'POST', path: `/v1/users/${targetOf(role)}/enable` },
      ],
      'enable a user': (role) => [
        { method: 'POST', path: `/v1/users/${targetOf(role)}/disable` },
        { method: 'POST', path: `/v1/users/${targetOf(role)}/enable` },
      ],
      'list roles': () => [{ method: 'GET', path: '/v1/roles' }],
      'define a role': () => [
        {
          method: 'POST',
          path: '/v1/roles',
          json: { name: unique('reader'), permissions: ['read:Tenant:tenant'] },
        },
      ],
      'delete a role': () => {
        const name = unique('short-lived');
        return [
          {
            method: 'POST',
            path: '/v1/roles',
            json: { name, permissions: ['read:Tenant:tenant'] },
          },
          { method: 'DELETE', path: `/v1/roles/${name}` },
        ];
      },
      'grant a role': (role) => [
        {
          method: 'POST',
          path: '/v1/role-bindings',
          json: { ...aim(role), principalId: target, role: 'analyst' },
        },
      ],
      'revoke a role': (role) => [
        {
          method: 'POST',
          path: '/v1/role-bindings',
          json: { ...aim(role), principalId: target, role: 'billing' },
        },
        {
          method: 'POST',
          path: '/v1/role-bindings/revoke',
          json: { ...aim(role), principalId: target, role: 'billing' },
        },
      ],
      // the platform tenant grants no tenant roles: its accounts take a platform one
      'create a service account': (role) => [
        {
          method: 'POST',
          path: '/v1/service-accounts',
          json: {
            name: unique('worker'),
            ...(isPlatform(role) ? { roles: ['platform-operator'] } : {}),
          },
        },
      ],
      'list service accounts': () => [{ method: 'GET', path: '/v1/service-accounts' }],
      'create an API key': () => [
        { method: 'POST', path: '/v1/api-keys', json: { name: unique('key') } },
      ],
      'list API keys': () => [{ method: 'GET', path: '/v1/api-keys' }],
      // the key is created first, so its id is filled in when the step is made
      'revoke an API key': () => [
        { method: 'POST', path: '/v1/api-keys', json: { name: unique('to-revoke') } },
        { method: 'DELETE', path: '/v1/api-keys/{created}' },
      ],
      'say who it is': () => [{ method: 'GET', path: '/v1/auth/me' }],
      'rotate the signing keys': () => [{ method: 'POST', path: '/v1/auth/signing-keys/rotate' }],
      'read a tenant by slug': () => [{ method: 'GET', path: `/v1/tenants/by-slug/${slugs.own}` }],
      'read the audit trail': () => [{ method: 'GET', path: '/v1/audit-events?limit=5' }],
      'export the audit trail': () => [
        {
          method: 'GET',
          path: `/v1/audit-events/export?from=2020-01-01T00:00:00Z&to=${new Date().toISOString()}`,
        },
      ],
      'verify the audit chain': (role) => [
        { method: 'POST', path: '/v1/audit-events/verify', json: aim(role) },
      ],
      'declare a queue': () => [
        {
          method: 'POST',
          path: '/v1/queues',
          json: { name: unique('rbac-q'), workerPool: 'rbac-workers' },
        },
      ],
      'list queues': () => [{ method: 'GET', path: '/v1/queues' }],
      'read a queue': () => [{ method: 'GET', path: `/v1/queues/${jobsQueue}` }],
      'submit a job': (role) => [submitJob(role)],
      'list jobs': (role) => [{ method: 'GET', path: `/v1/jobs${onTenant(role)}` }],
      'read a job': (role) =>
        JOB_SUBMITTERS.includes(role)
          ? [submitJob(role), { method: 'GET', path: `/v1/jobs/{created}${onTenant(role)}` }]
          : [{ method: 'GET', path: `/v1/jobs/${seededJob}${onTenant(role)}` }],
      'cancel a job': (role) => [
        submitJob(role),
        { method: 'POST', path: `/v1/jobs/{created}/cancel${onTenant(role)}` },
      ],
      'list dead letters': (role) => [{ method: 'GET', path: `/v1/dead-letters${onTenant(role)}` }],
      // one attempt, failed by a worker: the job is dead, and the role puts it back
      'retry a dead letter': (role) => [
        submitJob(role, { queue: deadQueue, maxAttempts: 1 }),
        {
          method: 'POST',
          path: `/v1/dead-letters/{created}/retry${onTenant(role)}`,
          before: failWaitingJobs,
        },
      ],
      'list GPU nodes': () => [{ method: 'GET', path: '/v1/gpu/nodes' }],
      'register a GPU node': () => [registerNode()],
      'read a GPU node': () => [registerNode(), { method: 'GET', path: '/v1/gpu/nodes/{created}' }],
      'drain a GPU node': () => [
        registerNode(),
        { method: 'POST', path: '/v1/gpu/nodes/{created}/drain' },
      ],
      'read the GPU fleet status': () => [{ method: 'GET', path: '/v1/gpu/status' }],
      'lease VRAM': (role) => [leaseVram(role)],
      'release a VRAM lease': (role) => [
        leaseVram(role),
        { method: 'DELETE', path: `/v1/gpu/leases/{created}${onTenant(role)}` },
      ],
      'read the cluster status': () => [{ method: 'GET', path: '/v1/cluster/status' }],
      'create a collection': (role) => [newCollection(role)],
      'list collections': (role) => [{ method: 'GET', path: `/v1/collections${onTenant(role)}` }],
      'read a collection': (role) => [
        { method: 'GET', path: `/v1/collections/${collectionId}${onTenant(role)}` },
      ],
      'delete a collection': (role) => [
        newCollection(role),
        { method: 'DELETE', path: `/v1/collections/{created}${onTenant(role)}` },
      ],
      'add a document': (role) => [addDocument(role)],
      'list documents': (role) => [
        { method: 'GET', path: `/v1/collections/${collectionId}/documents${onTenant(role)}` },
      ],
      'read a document': (role) => [
        {
          method: 'GET',
          path: `/v1/collections/${collectionId}/documents/${documentId}${onTenant(role)}`,
        },
      ],
      'delete a document': (role) => [
        addDocument(role),
        {
          method: 'DELETE',
          path: `/v1/collections/${collectionId}/documents/{created}${onTenant(role)}`,
        },
      ],
      'ask a collection': (role) => [
        {
          method: 'POST',
          path: '/v1/rag/query',
          json: { collection: askedCollectionId, question: 'What is noted?', ...aim(role) },
        },
      ],
      'read the token reconciliation': (role) => [
        { method: 'GET', path: `/v1/rag/usage/reconciliation${onTenant(role)}` },
      ],
      'delete its tenant': (role) => [
        {
          method: 'DELETE',
          path: `/v1/tenants/${role === 'tenant-owner' ? ownedToClose.id : closing.id}`,
        },
      ],
    };

    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const probe of PROBES) {
      const steps = SUCCESS[probe.name];
      if (!steps) {
        outcomes.push(`${probe.name}: no success path`);
        continue;
      }
      for (const role of probe.allowed) {
        // the tenant owner closes a tenant of its own, not the one the other probes work in
        const token =
          probe.destructive && role === 'tenant-owner' ? closingOwner : tokens.get(role)!;
        let created = '';
        for (const step of steps(role)) {
          await step.before?.();
          const response = await platform.call(step.path.replace('{created}', created), {
            method: step.method,
            token,
            ...(step.json !== undefined ? { json: step.json } : {}),
          });
          const body = await response.text();
          if (response.status === 201) {
            const made = JSON.parse(body) as { id?: string; apiKey?: { id: string } };
            created = made.apiKey?.id ?? made.id ?? '';
          }
          const ok = response.status >= 200 && response.status < 300;
          outcomes.push(
            `${role} ${probe.name}: ${step.method} ${ok ? 'succeeded' : `${response.status} ${body.slice(0, 200)}`}`,
          );
          expected.push(`${role} ${probe.name}: ${step.method} succeeded`);
        }
      }
    }
    expect(outcomes).toEqual(expected);
  });

  it("cannot reach or change another tenant's users, API keys, roles or tenant by their real ids", async () => {
    const other = { id: ids.other, slug: slugs.other };
    const neighbour = await userIn(other.id, ['viewer']);
    const otherOwner = await member(other, 'tenant-owner');
    const keyCreated = await platform.call('/v1/api-keys', {
      method: 'POST',
      token: otherOwner,
      json: { name: unique('theirs') },
    });
    expect(keyCreated.status).toBe(201);
    const { key: otherKeySecret, apiKey } = (await keyCreated.json()) as {
      key: string;
      apiKey: { id: string };
    };
    const otherKey = { id: apiKey.id, key: otherKeySecret };
    const roleName = unique('theirs');
    const roleCreated = await platform.call('/v1/roles', {
      method: 'POST',
      token: otherOwner,
      json: { name: roleName, permissions: ['read:Tenant:tenant'] },
    });
    expect(roleCreated.status).toBe(201);
    const accountCreated = await platform.call('/v1/service-accounts', {
      method: 'POST',
      token: otherOwner,
      json: { name: unique('their-worker') },
    });
    expect(accountCreated.status).toBe(201);
    const otherAccount = (await accountCreated.json()).id as string;

    /** What the other tenant looks like, seen by its owner: none of it may change. */
    const snapshot = async () => {
      const read = async (path: string) => {
        const response = await platform.call(path, { token: otherOwner });
        expect(response.status).toBe(200);
        return response.json();
      };
      const user = await read(`/v1/users/${neighbour}`);
      const tenantView = await read(`/v1/tenants/${other.id}`);
      const roles = await read('/v1/roles');
      const keysList = await read('/v1/api-keys');
      return {
        user: { status: user.status, roles: user.roles },
        tenant: { name: tenantView.name, status: tenantView.status, plan: tenantView.plan },
        roles: (roles.items as { name: string }[]).map((r) => r.name).sort(),
        keys: (keysList.items as { id: string; revokedAt?: string | null }[])
          .map((k) => `${k.id} ${k.revokedAt ?? 'live'}`)
          .sort(),
      };
    };
    const before = await snapshot();
    expect(before.roles).toContain(roleName);
    expect(before.keys).toContain(`${otherKey.id} live`);

    const attempts: Step[] = [
      { method: 'GET', path: `/v1/users/${neighbour}` },
      { method: 'POST', path: `/v1/users/${neighbour}/disable` },
      { method: 'POST', path: `/v1/users/${neighbour}/enable` },
      {
        method: 'POST',
        path: '/v1/role-bindings',
        json: { principalId: neighbour, role: 'tenant-admin' },
      },
      {
        method: 'POST',
        path: '/v1/role-bindings/revoke',
        json: { principalId: neighbour, role: 'viewer' },
      },
      { method: 'DELETE', path: `/v1/api-keys/${otherKey.id}` },
      {
        method: 'POST',
        path: '/v1/api-keys',
        json: { name: unique('stolen'), serviceAccountId: otherAccount },
      },
      { method: 'DELETE', path: `/v1/roles/${roleName}` },
      { method: 'GET', path: `/v1/tenants/${other.id}` },
      { method: 'PATCH', path: `/v1/tenants/${other.id}`, json: { name: 'taken over' } },
      { method: 'GET', path: `/v1/tenants/${other.id}/usage` },
      { method: 'DELETE', path: `/v1/tenants/${other.id}` },
    ];
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const role of ['tenant-owner', 'tenant-admin', 'developer'] as const) {
      for (const credential of [tokens.get(role)!, keys.get(role)!]) {
        for (const attempt of attempts) {
          const response = await platform.call(attempt.path, {
            method: attempt.method,
            token: credential,
            ...(attempt.json !== undefined ? { json: attempt.json } : {}),
          });
          const refused = response.status === 403 || response.status === 404;
          outcomes.push(
            `${role} ${attempt.method} ${attempt.path}: ${refused ? 'refused' : response.status}`,
          );
          expected.push(`${role} ${attempt.method} ${attempt.path}: refused`);
        }
      }
    }
    expect(outcomes).toEqual(expected);
    expect(await snapshot()).toEqual(before);
    // the other tenant's key still works
    expect((await platform.call(`/v1/tenants/${other.id}`, { token: otherKey.key })).status).toBe(
      200,
    );
  });

  it('lets through exactly the roles that hold the permission, and refuses the rest with 403', async () => {
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const probe of PROBES) {
      // refused roles first, so a destructive call that is let through comes after them, and
      // the platform admin last of all
      const order = [
        ...ALL.filter((r) => !probe.allowed.includes(r)),
        ...ALL.filter((r) => probe.allowed.includes(r) && r !== 'platform-admin'),
        ...ALL.filter((r) => probe.allowed.includes(r) && r === 'platform-admin'),
      ];
      for (const role of order) {
        const credentials: [string, string | undefined][] = [
          ['token', tokens.get(role)],
          [
            'API key',
            probe.destructive && probe.allowed.includes(role) ? undefined : keys.get(role),
          ],
        ];
        for (const [kind, credential] of credentials) {
          if (!credential) continue;
          const response = await platform.call(probe.path(ids), {
            method: probe.method,
            token: credential,
            ...(probe.json !== undefined ? { json: probe.json } : {}),
          });
          outcomes.push(`${role} (${kind}) ${probe.name}: ${outcome(response.status)}`);
          expected.push(
            `${role} (${kind}) ${probe.name}: ${probe.allowed.includes(role) ? 'allowed' : 'denied'}`,
          );
        }
      }
    }
    expect(outcomes).toEqual(expected);
  });

  it('probes every route that requires a permission', async () => {
    const doc = await (await platform.call('/docs/json', { auth: false })).json();
    const guarded: string[] = [];
    for (const [path, operations] of Object.entries(
      doc.paths as Record<string, Record<string, Record<string, unknown>>>,
    )) {
      for (const [method, operation] of Object.entries(operations)) {
        const permission = operation['x-lattice-permission'];
        // public routes admit everyone, and "authenticated" ones leave the check to the service
        if (typeof permission === 'string' && permission.includes(':'))
          guarded.push(`${method.toUpperCase()} ${path}`);
      }
    }
    const probed = new Set(PROBES.map((p) => p.route));
    expect(guarded.filter((route) => !probed.has(route))).toEqual([]);
    expect(guarded.length).toBeGreaterThan(20);
  });

  it('declares a permission, or says it is public, on every route of the API', async () => {
    const doc = await (await platform.call('/docs/json', { auth: false })).json();
    const undeclared: string[] = [];
    for (const [path, operations] of Object.entries(
      doc.paths as Record<string, Record<string, Record<string, unknown>>>,
    )) {
      // the API itself; health and metrics belong to every service and are public by design
      if (!path.startsWith('/v1') && !path.startsWith('/.well-known')) continue;
      for (const [method, operation] of Object.entries(operations)) {
        if (!operation['x-lattice-permission']) undeclared.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(undeclared).toEqual([]);
  });

  it("holds a tenant to its plan's requests per minute, with RateLimit headers and Retry-After", async () => {
    const starter = await tenant('starter');
    const token = await member(starter, 'viewer');
    let last: Response | undefined;
    for (let i = 1; i <= 60; i++) {
      last = await platform.call(`/v1/tenants/${starter.id}`, { token });
      expect(last.status).toBe(200);
    }
    expect(last!.headers.get('ratelimit-limit')).toBe('60');
    expect(last!.headers.get('ratelimit-remaining')).toBe('0');
    const refused = await platform.call(`/v1/tenants/${starter.id}`, { token });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await refused.json()).code).toBe('RATE_LIMITED');
    // another tenant is not held back by this one's traffic
    const neighbour = await member({ id: ids.other, slug: slugs.other }, 'viewer');
    expect((await platform.call(`/v1/tenants/${ids.other}`, { token: neighbour })).status).toBe(
      200,
    );
  });
});
