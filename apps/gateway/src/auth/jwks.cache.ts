import { createPublicKey, type KeyObject } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'nats';
import type { Logger } from 'pino';
import { AuthJwks, AuthSigningKeyRotated } from '@lattice/contracts';
import { EventBus, RpcClient } from '@lattice/messaging';
import { serviceContext } from '@lattice/request-context';
import { LOGGER } from '@lattice/service-runtime';

export const JWKS_MIN_REFETCH_MS = Symbol('JWKS_MIN_REFETCH_MS');

/** Even with every kid known, the set is fetched again this often to learn of retirements. */
export const JWKS_MAX_AGE_MS = 10 * 60_000;

/**
 * The auth service's public signing keys, by `kid`.
 *
 * - A token with a kid not yet known makes the gateway fetch the set again, but no more often
 *   than the bound (counted from the last attempt, failed or not), so a stream of forged kids
 *   cannot turn into a stream of requests to the auth service.
 * - A rotation announced by the auth service is fetched at once, whatever the bound, and a
 *   token that arrives while that fetch is under way waits for it: the first tokens of a new
 *   key are not refused until the bound lets the gateway look.
 * - A set past its age is refreshed in the background while the keys in hand go on verifying:
 *   an auth service that is down or slow does not turn every valid token into a 401.
 */
@Injectable()
export class JwksCache implements OnModuleInit, OnModuleDestroy {
  private keys = new Map<string, KeyObject>();
  private fetchedAt = 0;
  private attemptedAt = 0;
  private inflight?: Promise<void>;
  private subscription?: Subscription;

  constructor(
    private readonly rpc: RpcClient,
    private readonly events: EventBus,
    @Inject(JWKS_MIN_REFETCH_MS) private readonly minRefetchMs: number,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    // only the auth service may publish here (NATS permissions), and fetches coalesce
    this.subscription = this.events.subscribe(AuthSigningKeyRotated, async ({ kid }) => {
      if (!this.keys.has(kid))
        await this.refresh().catch((error: unknown) => this.failed(error, false));
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  async keyFor(kid: string): Promise<KeyObject | undefined> {
    if (!this.keys.has(kid) && this.inflight) await this.inflight.catch(() => undefined);
    const now = Date.now();
    const mayFetch = now - this.attemptedAt >= this.minRefetchMs;
    if (!this.keys.has(kid)) {
      // nothing to verify with yet: a failure here is the caller's answer (503), unless
      // keys from an earlier fetch exist, in which case the kid is simply unknown
      if (mayFetch) await this.refresh().catch((error: unknown) => this.failed(error));
    } else if (now - this.fetchedAt >= JWKS_MAX_AGE_MS && mayFetch) {
      void this.refresh().catch((error: unknown) => this.failed(error, false));
    }
    return this.keys.get(kid);
  }

  private failed(error: unknown, rethrowWhenEmpty = true): void {
    this.logger.warn({ err: error }, 'fetching the JWKS from the auth service failed');
    if (rethrowWhenEmpty && this.keys.size === 0) throw error;
  }

  private refresh(): Promise<void> {
    this.inflight ??= (async () => {
      this.attemptedAt = Date.now();
      try {
        const jwks = await this.rpc.request(AuthJwks, {}, serviceContext('gateway'));
        const keys = new Map<string, KeyObject>();
        for (const jwk of jwks.keys) {
          if (typeof jwk.kid !== 'string' || jwk.kty !== 'EC') continue;
          keys.set(jwk.kid, createPublicKey({ key: jwk as never, format: 'jwk' }));
        }
        this.keys = keys;
        this.fetchedAt = Date.now();
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }
}
