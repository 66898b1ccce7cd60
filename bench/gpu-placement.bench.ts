/**
 * `npm run bench:gpu`: the GPU-node service's placement core. Prints (1) the time of one
 * decision (`placeLease`) with 10, 100 and 1,000 GPUs; (2) packing on small random traces of
 * lease requests: the VRAM placed before the first refusal by best fit (ours) and by first fit,
 * against the exact optimum found by exhaustive search (every assignment of the trace's leases
 * to the cards, in order); (3) the same on large traces with leases also released, best fit
 * against first fit and worst fit (spreading). Seeded random: figures only, never pass/fail.
 * BENCH_GPU_TRACES sets the number of traces of (2) and (3) (default 300 and 40).
 */
import {
  availableMiB,
  chargedMiB,
  placeLease,
  type GpuCapacity,
  type PlacementOptions,
} from '../apps/gpu-nodes/src/placement/placement';
import { say, sayMachine } from './support/report';

const V100_16 = 16_160;
const V100_32 = 32_480;
const OPTIONS: PlacementOptions = { cudaContextMiB: 400, settleToleranceMiB: 256 };
const SMALL_TRACES = Number(process.env.BENCH_GPU_TRACES ?? 300) || 300;
const LARGE_TRACES = Math.max(1, Math.round(SMALL_TRACES / 7.5));

/** mulberry32: a small seeded generator, so every run sees the same traces. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Model memory as served on V100s (weights plus working set, MiB): small embedders and
 * rerankers, 1-3B models, 7B in 8 bit and in fp16, 13B in 8 bit.
 */
const MODEL_SIZES = [900, 1_400, 2_600, 4_800, 7_600, 9_800, 14_200, 15_400];
const MODEL_WEIGHTS = [6, 6, 5, 4, 3, 2, 2, 1];

function modelSize(rand: () => number): number {
  const total = MODEL_WEIGHTS.reduce((a, b) => a + b, 0);
  let r = rand() * total;
  for (let i = 0; i < MODEL_SIZES.length; i += 1) {
    r -= MODEL_WEIGHTS[i]!;
    if (r < 0) return MODEL_SIZES[i]!;
  }
  return MODEL_SIZES[0]!;
}

function fleet(n: number, rand: () => number): GpuCapacity[] {
  return Array.from({ length: n }, (_, i) => ({
    uuid: `GPU-${String(i).padStart(4, '0')}`,
    node: `node-${String(Math.floor(i / 4)).padStart(3, '0')}`,
    totalMiB: rand() < 0.5 ? V100_16 : V100_32,
    reservedMiB: 0,
    measuredUsedMiB: 0,
    leasedMiB: 0,
    leaseCount: 0,
    labels: {},
    eligible: true,
  }));
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

// ---- (1) decision time ----

function timeDecisions(n: number): { p50: number; p99: number } {
  const rand = random(n);
  const gpus = fleet(n, rand).map((g) => {
    const leased = Math.floor(rand() * 0.8 * g.totalMiB);
    return { ...g, leasedMiB: leased, measuredUsedMiB: leased, leaseCount: leased > 0 ? 2 : 0 };
  });
  const requests = Array.from({ length: 1_000 }, () => modelSize(rand));
  const iterations = n >= 1_000 ? 5_000 : 20_000;
  for (let i = 0; i < 500; i += 1) placeLease(gpus, { vramMiB: requests[i % 1_000]! }, OPTIONS);
  const samples: number[] = [];
  for (let i = 0; i < iterations; i += 1) {
    const request = { vramMiB: requests[i % 1_000]! };
    const start = process.hrtime.bigint();
    placeLease(gpus, request, OPTIONS);
    samples.push(Number(process.hrtime.bigint() - start) / 1_000);
  }
  samples.sort((a, b) => a - b);
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) };
}

// ---- packing policies ----

type Policy = (gpus: GpuCapacity[], vramMiB: number) => string | undefined;

const bestFit: Policy = (gpus, vramMiB) => {
  const decision = placeLease(gpus, { vramMiB }, OPTIONS);
  return decision.ok ? decision.gpu : undefined;
};

/** The first card, in fixed order, with room. */
const firstFit: Policy = (gpus, vramMiB) =>
  gpus.find((g) => availableMiB(g) >= chargedMiB(vramMiB, OPTIONS))?.uuid;

/** The card with the most room: spreads the load. */
const worstFit: Policy = (gpus, vramMiB) => {
  let best: GpuCapacity | undefined;
  for (const g of gpus) {
    if (availableMiB(g) < chargedMiB(vramMiB, OPTIONS)) continue;
    if (!best || availableMiB(g) > availableMiB(best)) best = g;
  }
  return best?.uuid;
};

function grant(gpus: GpuCapacity[], uuid: string, charge: number): void {
  const g = gpus.find((x) => x.uuid === uuid)!;
  g.leasedMiB += charge;
  g.measuredUsedMiB = g.leasedMiB;
  g.leaseCount += 1;
}

/** Model VRAM placed, in order, before the first request the policy refuses. */
function placedBeforeRefusal(cards: GpuCapacity[], trace: number[], policy: Policy): number {
  const gpus = cards.map((g) => ({ ...g }));
  let placed = 0;
  for (const vramMiB of trace) {
    const uuid = policy(gpus, vramMiB);
    if (!uuid) break;
    grant(gpus, uuid, chargedMiB(vramMiB, OPTIONS));
    placed += vramMiB;
  }
  return placed;
}

/**
 * Whether these leases fit the cards together: depth-first search, largest lease first, cards
 * with the same room tried once, and the states already found to fail remembered.
 */
function fits(room: number[], charges: number[]): boolean {
  const items = [...charges].sort((a, b) => b - a);
  const suffix = items.map((_, i) => items.slice(i).reduce((a, b) => a + b, 0));
  const failed = new Set<string>();
  const search = (i: number, bins: number[]): boolean => {
    if (i === items.length) return true;
    if (suffix[i]! > bins.reduce((a, b) => a + b, 0)) return false;
    const key = `${i}|${[...bins].sort((a, b) => a - b).join(',')}`;
    if (failed.has(key)) return false;
    const tried = new Set<number>();
    for (let b = 0; b < bins.length; b += 1) {
      if (bins[b]! < items[i]! || tried.has(bins[b]!)) continue;
      tried.add(bins[b]!);
      const next = [...bins];
      next[b]! -= items[i]!;
      if (search(i + 1, next)) return true;
    }
    failed.add(key);
    return false;
  };
  return search(0, [...room]);
}

/**
 * The most model VRAM any assignment places before its first refusal: the longest prefix of
 * the trace whose leases fit the cards together (exhaustive search), knowing the whole trace.
 */
function optimum(cards: GpuCapacity[], trace: number[], atLeast: number): number {
  const room = cards.map((g) => g.totalMiB - g.reservedMiB);
  const charges = trace.map((v) => chargedMiB(v, OPTIONS));
  let length = atLeast;
  while (length < trace.length && fits(room, charges.slice(0, length + 1))) length += 1;
  return trace.slice(0, length).reduce((a, b) => a + b, 0);
}

/** How many leases of the trace the policy places before its first refusal. */
function countBeforeRefusal(cards: GpuCapacity[], trace: number[], policy: Policy): number {
  const gpus = cards.map((g) => ({ ...g }));
  let count = 0;
  for (const vramMiB of trace) {
    const uuid = policy(gpus, vramMiB);
    if (!uuid) break;
    grant(gpus, uuid, chargedMiB(vramMiB, OPTIONS));
    count += 1;
  }
  return count;
}

function smallPacking() {
  const rand = random(7);
  const ratios = { best: [] as number[], first: [] as number[] };
  let bestOptimal = 0;
  let firstOptimal = 0;
  for (let t = 0; t < SMALL_TRACES; t += 1) {
    const cards = fleet(2 + Math.floor(rand() * 3), rand);
    const capacity = cards.reduce((sum, g) => sum + g.totalMiB, 0);
    const trace: number[] = [];
    for (let sum = 0; sum < capacity * 1.3;) {
      const size = modelSize(rand);
      trace.push(size);
      sum += size;
    }
    const known = Math.max(
      countBeforeRefusal(cards, trace, bestFit),
      countBeforeRefusal(cards, trace, firstFit),
    );
    const opt = optimum(cards, trace, known);
    const best = placedBeforeRefusal(cards, trace, bestFit);
    const first = placedBeforeRefusal(cards, trace, firstFit);
    ratios.best.push(best / opt);
    ratios.first.push(first / opt);
    if (best === opt) bestOptimal += 1;
    if (first === opt) firstOptimal += 1;
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const min = (xs: number[]) => Math.min(...xs);
  return { ratios, bestOptimal, firstOptimal, mean, min };
}

/**
 * A long trace on a large fleet: each step releases a random live lease (30 %) or asks for a
 * new one, until the policy refuses. Returns the model VRAM granted before the refusal and the
 * share of the fleet's memory leased at that moment.
 */
function churn(n: number, seed: number, policy: Policy): { placed: number; occupancy: number } {
  const rand = random(seed);
  const gpus = fleet(n, rand);
  const capacity = gpus.reduce((sum, g) => sum + g.totalMiB, 0);
  const live: Array<{ uuid: string; charge: number }> = [];
  let placed = 0;
  for (;;) {
    if (live.length > 0 && rand() < 0.3) {
      const [lease] = live.splice(Math.floor(rand() * live.length), 1);
      const g = gpus.find((x) => x.uuid === lease!.uuid)!;
      g.leasedMiB -= lease!.charge;
      g.measuredUsedMiB = g.leasedMiB;
      g.leaseCount -= 1;
      continue;
    }
    const vramMiB = modelSize(rand);
    const uuid = policy(gpus, vramMiB);
    if (!uuid) break;
    const charge = chargedMiB(vramMiB, OPTIONS);
    grant(gpus, uuid, charge);
    live.push({ uuid, charge });
    placed += vramMiB;
  }
  const leased = gpus.reduce((sum, g) => sum + g.leasedMiB, 0);
  return { placed, occupancy: leased / capacity };
}

function main(): void {
  sayMachine();
  say('');
  say('(1) placeLease decision time, fleet 20-80 % leased, mixed V100 16/32 GB');
  say(`${'GPUs'.padStart(6)}  ${'p50 µs'.padStart(8)}  ${'p99 µs'.padStart(8)}`);
  for (const n of [10, 100, 1_000]) {
    const { p50, p99 } = timeDecisions(n);
    say(`${String(n).padStart(6)}  ${p50.toFixed(2).padStart(8)}  ${p99.toFixed(2).padStart(8)}`);
  }

  say('');
  say(
    `(2) small instances: ${SMALL_TRACES} traces, 2-4 V100s, model VRAM placed before the first refusal / exact optimum`,
  );
  const small = smallPacking();
  say(
    `best fit (ours): mean ${(small.mean(small.ratios.best) * 100).toFixed(1)} %, worst ${(small.min(small.ratios.best) * 100).toFixed(1)} %, optimal in ${small.bestOptimal}/${SMALL_TRACES}`,
  );
  say(
    `first fit:       mean ${(small.mean(small.ratios.first) * 100).toFixed(1)} %, worst ${(small.min(small.ratios.first) * 100).toFixed(1)} %, optimal in ${small.firstOptimal}/${SMALL_TRACES}`,
  );

  say('');
  say(
    `(3) large instances: ${LARGE_TRACES} traces each, leases arriving and leaving (30 % releases) until the first refusal`,
  );
  say(
    `${'GPUs'.padStart(6)}  ${'policy'.padEnd(15)}  ${'GiB placed'.padStart(10)}  ${'vs first fit'.padStart(12)}  ${'leased at refusal'.padStart(17)}`,
  );
  for (const n of [100, 1_000]) {
    const traces = n >= 1_000 ? Math.max(1, Math.round(LARGE_TRACES / 4)) : LARGE_TRACES;
    const totals = new Map<string, { placed: number; occupancy: number }>();
    for (const [name, policy] of [
      ['best fit (ours)', bestFit],
      ['first fit', firstFit],
      ['worst fit', worstFit],
    ] as const) {
      let placed = 0;
      let occupancy = 0;
      for (let t = 0; t < traces; t += 1) {
        const r = churn(n, 1_000 + t, policy);
        placed += r.placed;
        occupancy += r.occupancy;
      }
      totals.set(name, { placed: placed / traces, occupancy: occupancy / traces });
    }
    const first = totals.get('first fit')!.placed;
    for (const [name, r] of totals) {
      say(
        `${String(n).padStart(6)}  ${name.padEnd(15)}  ${(r.placed / 1024).toFixed(0).padStart(10)}  ${((r.placed / first) * 100).toFixed(1).padStart(11)}%  ${(r.occupancy * 100).toFixed(1).padStart(16)}%`,
      );
    }
  }
}

main();
