import type { INestApplication } from '@nestjs/common';
import { SignJWT } from 'jose';
import { type NatsConnection, type Status } from 'nats';
import { loadConfig } from '@lattice/config';
import {
  ErrorCode,
  PLATFORM_ADMIN_ROLE,
  TenantLifecycle,
  TenantsCreate,
  TenantsGet,
  TenantsGetBySlug,
} from '@lattice/contracts';
import { createLogger } from '@lattice/logging';
import { EventBus, RpcClient, SubjectNamespace, connectNats } from '@lattice/messaging';
import {
  ContextSigner,
  newContextKeySet,
  parseContextPrivateKey,
  serviceContext,
  type RequestContext,
} from '@lattice/request-context';
import {
  TEST_APP_PASSWORD,
  TEST_INTERNAL_SECRET,
  createTestDatabase,
  eventually,
  failure,
  startNatsWithServiceUsers,
  testContextEnv,
  testContextKey,
  testGatewaySigner,
  testNamespace,
  testPostgresUrl,
  type NatsWithServiceUsers,
} from '@lattice/testing';
import { randomUUID } from 'node:crypto';
import { createTenantsApp } from './tenants.app';
import { tenantsConfigSpec } from './tenants.config';

jest.setTimeout(60_000);

const platformAdmin = (): RequestContext => ({
  tenantId: null,
  actor: { type: 'user', id: 'admin', roles: [PLATFORM_ADMIN_ROLE] },
  requestId: randomUUID(),
});

/**
 * The tenants service on a NATS server where every service is its own user with only the
 * rights its access declaration gives it, as `npm start` and the chart run it.
 */
describe('the tenants service on a NATS server with a user per service', () => {
  const namespace = testNamespace();
  const ns = new SubjectNamespace(namespace);
  const logger = createLogger('nats-identity-test', 'silent');
  let nats: NatsWithServiceUsers;
  let app: INestApplication;
  let dropDatabase: () => Promise<void>;
  const connections: NatsConnection[] = [];

  /** A connection as `service`'s NATS user, with the problems the server reports to it. */
  async function connectAs(service: string) {
    const nc = await connectNats(nats.url, `${service}-test`, nats.credentialsOf(service));
    connections.push(nc);
    const errors: string[] = [];
    void (async () => {
      for await (const status of nc.status() as AsyncIterable<Status>) {
        if (status.type === 'error') errors.push(String(status.data));
      }
    })();
    return { nc, errors };
  }

  beforeAll(async () => {
    nats = await startNatsWithServiceUsers(namespace);
    const database = await createTestDatabase(testPostgresUrl());
    dropDatabase = () => database.drop();
    const config = loadConfig(tenantsConfigSpec, {
      NATS_URL: nats.url,
      LATTICE_NAMESPACE: namespace,
      LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
      ...testContextEnv('tenants'),
      ...nats.envOf('tenants'),
      DATABASE_URL: database.url,
      DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
      TENANTS_HTTP_PORT: '0',
      LOG_LEVEL: 'silent',
    });
    // its streams, its outbox relay and its usage consumer all start under its own user
    app = await createTenantsApp(config, logger, { migrate: true });
  });

  afterAll(async () => {
    await app?.close();
    for (const nc of connections) await nc.drain().catch(() => undefined);
    await nats?.stop();
    await dropDatabase?.();
  });

  it("answers the gateway's and the auth service's calls, each over its own user", async () => {
    const gateway = await connectAs('gateway');
    const heard: string[] = [];
    new EventBus(gateway.nc, ns, logger).subscribe(TenantLifecycle, (e) => {
      heard.push(e.tenantId);
    });
    await gateway.nc.flush();
    const asGateway = new RpcClient(gateway.nc, testGatewaySigner(), ns);
    const tenant = await asGateway.request(
      TenantsCreate,
      { slug: 'acme-identity', name: 'Acme', plan: 'starter' },
      platformAdmin(),
    );

    const auth = await connectAs('auth');
    const authSigner = ContextSigner.fromConfig('auth', testContextEnv('auth'));
    const asAuth = new RpcClient(auth.nc, authSigner, ns);
    const found = await asAuth.request(
      TenantsGetBySlug,
      { slug: 'acme-identity' },
      serviceContext('auth'),
    );
    expect(found.id).toBe(tenant.id);
    // the tenants service kept the event in its stream; the gateway heard it
    await eventually(() => expect(heard).toContain(tenant.id));
    expect([...gateway.errors, ...auth.errors]).toEqual([]);
  });

  it('refuses a service publishing a subject its declaration does not give it', async () => {
    const auth = await connectAs('auth');
    const asAuth = new RpcClient(
      auth.nc,
      ContextSigner.fromConfig('auth', testContextEnv('auth')),
      ns,
      1_000,
    );
    // the auth service reads tenants; creating one is the gateway's call alone
    const error = await failure(
      asAuth.request(
        TenantsCreate,
        { slug: 'made-by-auth', name: 'Nope', plan: 'starter' },
        serviceContext('auth'),
      ),
    );
    expect(error.code).toBe(ErrorCode.Forbidden);
    expect(error.details).toEqual({ reason: 'nats-permission' });
    expect(error.message).toContain(`publish ${TenantsCreate.subject}`);
    await eventually(() => expect(auth.errors).toContain('PERMISSIONS_VIOLATION'));
    const asGateway = new RpcClient((await connectAs('gateway')).nc, testGatewaySigner(), ns);
    await expect(
      asGateway.request(TenantsGetBySlug, { slug: 'made-by-auth' }, platformAdmin()),
    ).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });

  it('refuses a service listening in on subjects it does not handle', async () => {
    const operator = await connectAs('operator');
    const refused: Error[] = [];
    operator.nc.subscribe(ns.subject('tenants.v1.>'), { callback: (e) => e && refused.push(e) });
    await eventually(() =>
      expect(refused.map((e) => e.message)).toContainEqual(
        expect.stringContaining(
          `Permissions Violation for Subscription to "${ns.subject('tenants.v1.>')}"`,
        ),
      ),
    );
  });

  it("refuses a tenant's context signed by any key but the gateway's, with a typed error", async () => {
    // the scheduler may call tenants.v1.get, and signs with its own key a context it may not
    const scheduler = await connectAs('scheduler');
    const member: RequestContext = {
      tenantId: randomUUID(),
      actor: { type: 'user', id: 'someone', roles: ['tenant-admin'] },
      requestId: randomUUID(),
    };
    const minted = await new SignJWT({ tid: member.tenantId, act: member.actor, rid: 'r' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'lattice-context+jwt', kid: 'scheduler' })
      .setIssuer('scheduler')
      .setAudience('lattice-services')
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(parseContextPrivateKey(testContextKey('scheduler'), 'scheduler').key);
    const forging = { sign: () => Promise.resolve(minted) } as unknown as ContextSigner;
    const refused = await failure(
      new RpcClient(scheduler.nc, forging, ns).request(
        TenantsGet,
        { id: member.tenantId! },
        member,
      ),
    );
    expect(refused.code).toBe(ErrorCode.Unauthenticated);
    expect(refused.details).toEqual({ reason: 'claims-beyond-signer' });

    // a key pair of its own, calling itself the gateway
    const stranger = newContextKeySet(['gateway']);
    const posing = ContextSigner.fromConfig('gateway', {
      LATTICE_CONTEXT_KEY: stranger.privateKeys.gateway,
      LATTICE_CONTEXT_PUBLIC_KEYS: stranger.publicKeys,
    });
    const forged = await failure(
      new RpcClient(scheduler.nc, posing, ns).request(TenantsGet, { id: member.tenantId! }, member),
    );
    expect(forged.code).toBe(ErrorCode.Unauthenticated);
    expect(forged.details).toEqual({ reason: 'bad-signature' });
  });
});
