import { hash } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { Subscription } from 'nats';
import { AuthApiKeyRevoked, AuthApiKeysVerify, type ApiKeyPrincipal } from '@lattice/contracts';
import { EventBus, RpcClient } from '@lattice/messaging';
import { serviceContext } from '@lattice/request-context';

export const API_KEY_CACHE_TTL_MS = Symbol('API_KEY_CACHE_TTL_MS');

const digest = (key: string) => hash('sha256', key, 'base64url');

/**
 * API keys as the auth service vouched for them, kept briefly so a busy key does not cross
 * NATS on every call. A revocation reaches every gateway over NATS and evicts at once; the
 * short lifetime bounds the damage of a missed message.
 */
@Injectable()
export class ApiKeyCache implements OnModuleInit, OnModuleDestroy {
  private readonly cache: LRUCache<string, ApiKeyPrincipal, string>;
  private subscription?: Subscription;

  constructor(
    private readonly rpc: RpcClient,
    private readonly events: EventBus,
    @Inject(API_KEY_CACHE_TTL_MS) ttlMs: number,
  ) {
    this.cache = new LRUCache<string, ApiKeyPrincipal, string>({
      max: 50_000,
      ttl: Math.max(1, ttlMs),
      // a busy key is re-checked in the background, not by making its callers wait; a revoked
      // key is evicted by the revocation message, and a refetch that fails drops the entry
      allowStale: true,
      fetchMethod: (_digest, _stale, { context: key }) =>
        this.rpc.request(AuthApiKeysVerify, { key }, serviceContext('gateway')),
    });
  }

  onModuleInit(): void {
    this.subscription = this.events.subscribe(AuthApiKeyRevoked, ({ keyId }) => {
      for (const [cacheKey, principal] of this.cache.entries()) {
        if (principal.keyId === keyId) this.cache.delete(cacheKey);
      }
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  async principal(key: string): Promise<ApiKeyPrincipal> {
    const principal = (await this.cache.fetch(digest(key), { context: key }))!;
    if (principal.expiresAt && Date.parse(principal.expiresAt) <= Date.now()) {
      this.cache.delete(digest(key));
      return this.cache.fetch(digest(key), { context: key }) as Promise<ApiKeyPrincipal>;
    }
    return principal;
  }
}
