/**
 * `npm run bench:context`: what vouching for request context costs a call. Prints the time of
 * one signature by the gateway (EdDSA, Ed25519), of one first verification by a service (the
 * key imported once at start, looked up by `kid`), and of one verification of a token already
 * seen (the cache), each as the median over BENCH_CONTEXT_ROUNDS rounds (default 2,000).
 * Figures only, never pass/fail.
 */
import { randomUUID } from 'node:crypto';
import { SERVICE_NAMES } from '@lattice/contracts';
import { ContextSigner, newContextKeySet, type RequestContext } from '@lattice/request-context';
import { say, sayMachine } from './support/report';

const ROUNDS = Number(process.env.BENCH_CONTEXT_ROUNDS ?? 2_000) || 2_000;

const median = (samples: number[]) => [...samples].sort((a, b) => a - b)[samples.length >> 1]!;
const micros = (ns: bigint) => Number(ns) / 1_000;

async function timed<T>(run: () => Promise<T>): Promise<{ us: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await run();
  return { us: micros(process.hrtime.bigint() - start), value };
}

async function main(): Promise<void> {
  const keys = newContextKeySet(SERVICE_NAMES);
  const signer = (service: string) =>
    ContextSigner.fromConfig(service, {
      LATTICE_CONTEXT_KEY: keys.privateKeys[service],
      LATTICE_CONTEXT_PUBLIC_KEYS: keys.publicKeys,
    });
  const gateway = signer('gateway');
  const tenants = signer('tenants');
  const sign: number[] = [];
  const verify: number[] = [];
  const cached: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const ctx: RequestContext = {
      tenantId: randomUUID(),
      actor: { type: 'user', id: randomUUID(), roles: ['developer'] },
      requestId: randomUUID(),
    };
    const signed = await timed(() => gateway.sign(ctx));
    sign.push(signed.us);
    verify.push((await timed(() => tenants.verify(signed.value))).us);
    cached.push((await timed(() => tenants.verify(signed.value))).us);
  }
  sayMachine();
  say(`request context, ${ROUNDS} rounds, median per call:`);
  say(`  gateway signs:                 ${median(sign).toFixed(1)} µs`);
  say(`  service verifies, first time:  ${median(verify).toFixed(1)} µs`);
  say(`  service verifies, seen before: ${median(cached).toFixed(1)} µs`);
}

void main();
