import { abilityOf, record } from '@lattice/authz';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { Events, type NatsConnection, type Subscription } from 'nats';
import { TenantLifecycle, TenantsGet, type TenantView } from '@lattice/contracts';
import { EventBus, RpcClient } from '@lattice/messaging';
import type { RequestContext } from '@lattice/request-context';
import { MetricsRegistry, NATS_CONNECTION } from '@lattice/service-runtime';
import { Counter } from 'prom-client';

export const TENANT_CACHE_TTL_MS = Symbol('TENANT_CACHE_TTL_MS');

/**
 * Tenants by id, kept at the gateway so a hot path does not cross NATS for data that did not
 * change. Every tenant event evicts its entry; a reconnect to NATS (events may have been
 * missed meanwhile) empties the cache; the TTL bounds staleness if all else fails.
 */
@Injectable()
export class TenantCache implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly cache: LRUCache<string, TenantView, RequestContext>;
  private subscription?: Subscription;
  private readonly lookups: Counter<'result'>;
  private watching = true;

  constructor(
    private readonly rpc: RpcClient,
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly events: EventBus,
    metrics: MetricsRegistry,
    @Inject(TENANT_CACHE_TTL_MS) ttlMs: number,
  ) {
    this.cache = new LRUCache<string, TenantView, RequestContext>({
      max: 10_000,
      ttl: ttlMs,
      // concurrent misses for one id share a single request
      fetchMethod: (id, _stale, { context }) => this.rpc.request(TenantsGet, { id }, context),
    });
    this.lookups = new Counter({
      name: 'lattice_gateway_tenant_cache_lookups_total',
      help: 'Tenant lookups at the gateway by result (hit or miss).',
      labelNames: ['result'],
      registers: [metrics.registry],
    });
  }

  async get(ctx: RequestContext, id: string): Promise<TenantView> {
    // only callers the tenants service would answer may be served from the cache
    const mayRead =
      ctx.actor.type === 'service' || abilityOf(ctx).can('read', record('Tenant', { id }));
    if (!mayRead) return this.rpc.request(TenantsGet, { id }, ctx);
    this.lookups.inc({ result: this.cache.has(id) ? 'hit' : 'miss' });
    for (let attempt = 1; ; attempt++) {
      const fetching = this.cache.fetch(id, { context: ctx });
      try {
        return (await fetching)!;
      } catch (error) {
        // an event evicted the entry while its fetch was in flight: that answer may predate
        // the change, so it is dropped and fetched again
        if (attempt >= 3 || !this.wasEvicted(error)) throw error;
      }
    }
  }

  private wasEvicted(error: unknown): boolean {
    return error instanceof Error && (error.message === 'deleted' || error.message === 'evicted');
  }

  invalidate(id: string): void {
    this.cache.delete(id);
  }

  onApplicationBootstrap(): void {
    this.subscription = this.events.subscribe(TenantLifecycle, ({ tenantId }) =>
      this.invalidate(tenantId),
    );
    void this.watchReconnects();
  }

  async onApplicationShutdown(): Promise<void> {
    this.watching = false;
    this.subscription?.unsubscribe();
  }

  private async watchReconnects(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (!this.watching) break;
      if (status.type === Events.Reconnect) this.cache.clear();
    }
  }
}
