import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { decodeJwt } from 'jose';
import type { NatsConnection } from 'nats';
import { DataSource } from 'typeorm';
import { loadConfig } from '@lattice/config';
import {
  AuditStream,
  AuthLogin,
  type AuditEvent,
  AuthUsersCreate,
  PLATFORM_ADMIN_ROLE,
  TenantsCreate,
  type TokenPair,
  type UserView,
} from '@lattice/contracts';
import { contextFromClaims, type AccessClaims } from '@lattice/authz';
import { createLogger } from '@lattice/logging';
import { RpcClient, SubjectNamespace, connectNats, ensureAuditStream } from '@lattice/messaging';
import { type RequestContext } from '@lattice/request-context';
import { KeyRing } from '@lattice/secrets';
import type { Clock } from '@lattice/service-runtime';
import {
  startBuiltService,
  TEST_APP_PASSWORD,
  TEST_INTERNAL_SECRET,
  createTestDatabase,
  testNamespace,
  testNatsUrl,
  testPostgresUrl,
  testGatewaySigner,
  testContextEnv,
  streamContents,
} from '@lattice/testing';
import { createAuthApp } from '../src/auth.app';
import { authConfigSpec, type AuthConfig } from '../src/auth.config';

export const ADMIN_EMAIL = 'admin@lattice.test';
export const ADMIN_PASSWORD = 'admin-password-for-tests';
export const PASSWORD = 'a-password-long-enough';

export interface AuthTestBed {
  auth: INestApplication;
  config: AuthConfig;
  rpc: RpcClient;
  nats: NatsConnection;
  ns: SubjectNamespace;
  ownerDb: DataSource;
  /** Creates a tenant through the tenants service; returns its id. */
  newTenant(slug?: string): Promise<{ id: string; slug: string }>;
  /** Creates a user through the auth service, as the platform admin. */
  newUser(tenantId: string, roles: string[], email?: string): Promise<UserView>;
  login(tenant: string, email: string, password?: string): Promise<TokenPair>;
  /** The context the gateway would send on behalf of this token's holder. */
  contextOf(accessToken: string): RequestContext;
  admin(): Promise<RequestContext>;
  /** Every audit event the services have published so far. */
  auditEvents(): Promise<AuditEvent[]>;
  close(): Promise<void>;
}

export const anonymous = (): RequestContext => ({
  tenantId: null,
  actor: { type: 'anonymous', id: 'anonymous', roles: [] },
  requestId: randomUUID(),
});

export const bootstrapAdmin = (): RequestContext => ({
  tenantId: null,
  actor: { type: 'bootstrap', id: 'test-admin', roles: [PLATFORM_ADMIN_ROLE] },
  requestId: randomUUID(),
});

/**
 * The auth service with the real tenants service beside it, run from the build (logins
 * resolve tenants through it), on a fresh database and namespace of this test file's own.
 */
export async function startAuthTestBed(
  options: { env?: Record<string, string>; clock?: Clock } = {},
): Promise<AuthTestBed> {
  const database = await createTestDatabase(testPostgresUrl());
  const common = {
    NATS_URL: testNatsUrl(),
    LATTICE_NAMESPACE: testNamespace(),
    LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
    ...testContextEnv('auth'),
    DATABASE_URL: database.url,
    DATABASE_APP_PASSWORD: TEST_APP_PASSWORD,
    LOG_LEVEL: 'silent',
  };
  const config = loadConfig(authConfigSpec, {
    ...common,
    AUTH_HTTP_PORT: '0',
    // cheaper hashes keep the tests quick; the format and the code path are the same
    AUTH_SCRYPT_LOG_N: '12',
    LATTICE_KEK: KeyRing.generateSpec('test'),
    AUTH_ADMIN_EMAIL: ADMIN_EMAIL,
    AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ...options.env,
  });
  const logger = createLogger('auth-test', config.LOG_LEVEL);
  const ns = new SubjectNamespace(config.LATTICE_NAMESPACE);
  const nats = await connectNats(config.NATS_URL, 'auth-test-caller');
  const tenants = await startBuiltService('tenants', 'TENANTS_HTTP_PORT', common);
  const auth = await createAuthApp(config, logger, { migrate: true, clock: options.clock });
  await ensureAuditStream(nats, ns);
  const rpc = new RpcClient(nats, testGatewaySigner(), ns);
  const ownerDb = await new DataSource({ type: 'postgres', url: database.url }).initialize();

  const contextOf = (accessToken: string) =>
    contextFromClaims(decodeJwt(accessToken) as unknown as AccessClaims, randomUUID());
  const login = (tenant: string, email: string, password = PASSWORD) =>
    rpc.request(AuthLogin, { tenant, email, password }, anonymous());
  let adminContext: RequestContext | undefined;

  return {
    auth,
    config,
    rpc,
    nats,
    ns,
    ownerDb,
    newTenant: async (slug = `t-${randomUUID().slice(0, 8)}`) => {
      const tenant = await rpc.request(
        TenantsCreate,
        { slug, name: slug, plan: 'professional' },
        bootstrapAdmin(),
      );
      return { id: tenant.id, slug };
    },
    newUser: (tenantId, roles, email = `${randomUUID().slice(0, 8)}@example.com`) =>
      rpc.request(
        AuthUsersCreate,
        { tenantId, email, password: PASSWORD, roles },
        bootstrapAdmin(),
      ),
    login,
    contextOf,
    admin: async () => {
      adminContext ??= contextOf(
        (await login('platform', ADMIN_EMAIL, ADMIN_PASSWORD)).accessToken,
      );
      return { ...adminContext, requestId: randomUUID() };
    },
    auditEvents: () => streamContents<AuditEvent>(nats, ns.stream(AuditStream.name)),
    close: async () => {
      await auth.close();
      await tenants.stop();
      await nats.drain().catch(() => undefined);
      await ownerDb.destroy();
      await database.drop();
    },
  };
}
