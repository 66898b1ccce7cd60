import { randomUUID } from 'node:crypto';
import { JSONCodec, type NatsConnection } from 'nats';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { PLATFORM_ADMIN_ROLE, TenantsCreate, type Plan } from '@lattice/contracts';
import type { RpcClient } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { TEST_APP_PASSWORD } from './environment';

/*
 * What every service's test bed shares: the platform admin as a caller, the service's database
 * seen as its owner and as its runtime role, a new tenant, and what a stream holds.
 */

/** A platform admin, as the gateway would vouch for one (a fresh request id each time). */
export const testPlatformAdmin = (): RequestContext => ({
  tenantId: null,
  actor: { type: 'bootstrap', id: 'test-admin', roles: [PLATFORM_ADMIN_ROLE] },
  requestId: randomUUID(),
});

/**
 * The test database as its owner (sees every row, for looking under the service's feet) and as
 * the service's runtime role (`lattice_<service>`, the role its queries run as: row-level
 * security applies), each its own connection pool.
 */
export async function openServiceDatabases(
  databaseUrl: string,
  runtimeRole: string,
  runtimeOptions: Partial<DataSourceOptions> = {},
): Promise<{ ownerDb: DataSource; runtimeDb: DataSource }> {
  const ownerDb = await new DataSource({ type: 'postgres', url: databaseUrl }).initialize();
  const runtimeUrl = new URL(databaseUrl);
  runtimeUrl.username = runtimeRole;
  runtimeUrl.password = TEST_APP_PASSWORD;
  const runtimeDb = await new DataSource({
    ...runtimeOptions,
    type: 'postgres',
    url: runtimeUrl.toString(),
  } as DataSourceOptions)
    .initialize()
    .catch(async (error: unknown) => {
      await ownerDb.destroy();
      throw error;
    });
  return { ownerDb, runtimeDb };
}

/** A new tenant on `plan`, created through the tenants service; answers its id. */
export async function createTestTenant(
  rpc: RpcClient,
  plan: Plan = 'professional',
): Promise<string> {
  const slug = `t-${randomUUID().slice(0, 8)}`;
  return (await rpc.request(TenantsCreate, { slug, name: slug, plan }, testPlatformAdmin())).id;
}

/** Every message a stream holds now, oldest first, decoded as JSON. */
export async function streamContents<T>(nats: NatsConnection, stream: string): Promise<T[]> {
  const jsm = await nats.jetstreamManager();
  const { state } = await jsm.streams.info(stream);
  const messages: T[] = [];
  const json = JSONCodec<T>();
  for (let seq = state.first_seq; seq > 0 && seq <= state.last_seq; seq++)
    messages.push(json.decode((await jsm.streams.getMessage(stream, { seq })).data));
  return messages;
}
