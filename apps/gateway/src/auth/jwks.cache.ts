import { createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuthJwks } from '@lattice/contracts';
import { RpcClient, type RequestContext } from '@lattice/messaging';

export const JWKS_MIN_REFETCH_MS = Symbol('JWKS_MIN_REFETCH_MS');

const GATEWAY: RequestContext['actor'] = { type: 'service', id: 'gateway', roles: [] };
/** Even with every kid known, the set is fetched again this often to learn of retirements. */
const MAX_AGE_MS = 10 * 60_000;

/**
 * The auth service's public signing keys, by `kid`. A token with a kid not yet known makes
 * the gateway fetch the set again, but no more often than the bound, so a stream of forged
 * kids cannot turn into a stream of requests to the auth service.
 */
@Injectable()
export class JwksCache {
  private keys = new Map<string, KeyObject>();
  private fetchedAt = 0;
  private inflight?: Promise<void>;

  constructor(
    private readonly rpc: RpcClient,
    @Inject(JWKS_MIN_REFETCH_MS) private readonly minRefetchMs: number,
  ) {}

  async keyFor(kid: string): Promise<KeyObject | undefined> {
    const age = Date.now() - this.fetchedAt;
    if ((!this.keys.has(kid) && age >= this.minRefetchMs) || age >= MAX_AGE_MS) {
      await this.refresh();
    }
    return this.keys.get(kid);
  }

  private refresh(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        const jwks = await this.rpc.request(
          AuthJwks,
          {},
          { tenantId: null, actor: GATEWAY, requestId: randomUUID() },
        );
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
