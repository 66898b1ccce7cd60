import fc from 'fast-check';
import {
  availableMiB,
  DEFAULT_CUDA_CONTEXT_MIB,
  isUnsettled,
  placeLease,
  type GpuCapacity,
  type PlacementDecision,
} from './placement';

// V100 figures as nvidia-smi and DCGM report them: 16160 MiB and 32480 MiB in total.
const V100_16 = 16_160;
const V100_32 = 32_480;

function gpu(uuid: string, overrides: Partial<GpuCapacity> = {}): GpuCapacity {
  return {
    uuid,
    node: 'node-a',
    totalMiB: V100_16,
    reservedMiB: 0,
    measuredUsedMiB: 0,
    leasedMiB: 0,
    leaseCount: 0,
    labels: {},
    eligible: true,
    ...overrides,
  };
}

function placed(decision: PlacementDecision): string {
  if (!decision.ok) throw new Error(`refused: ${decision.reason} (${decision.detail})`);
  return decision.gpu;
}

/** The GPUs after a decision is applied, as the service would see them. */
function apply(gpus: GpuCapacity[], decision: PlacementDecision): GpuCapacity[] {
  if (!decision.ok) return gpus;
  return gpus.map((g) =>
    g.uuid === decision.gpu
      ? { ...g, leasedMiB: g.leasedMiB + decision.chargedMiB, leaseCount: g.leaseCount + 1 }
      : g,
  );
}

describe('placeLease', () => {
  it('charges a CUDA context on top of the model memory', () => {
    const decision = placeLease([gpu('GPU-1')], { vramMiB: 4_000 }, {});
    expect(decision).toEqual({
      ok: true,
      gpu: 'GPU-1',
      node: 'node-a',
      chargedMiB: 4_000 + DEFAULT_CUDA_CONTEXT_MIB,
      remainingMiB: V100_16 - 4_000 - DEFAULT_CUDA_CONTEXT_MIB,
    });
    expect(placeLease([gpu('GPU-1')], { vramMiB: 4_000 }, { cudaContextMiB: 300 })).toMatchObject({
      chargedMiB: 4_300,
    });
  });

  it('gives neither the driver reserve nor memory used outside leases', () => {
    // 16160 total, 300 reserved by the driver, 200 used by a tool the leases do not know of
    const card = gpu('GPU-1', { reservedMiB: 300, measuredUsedMiB: 200 });
    const fits = V100_16 - 300 - 200 - 400;
    expect(placeLease([card], { vramMiB: fits }, { cudaContextMiB: 400 })).toMatchObject({
      ok: true,
      remainingMiB: 0,
    });
    expect(placeLease([card], { vramMiB: fits + 1 }, { cudaContextMiB: 400 })).toMatchObject({
      ok: false,
      reason: 'no-capacity',
    });
  });

  it('does not give memory promised to a lease whose model is still loading', () => {
    const card = gpu('GPU-1', { leasedMiB: 10_400, leaseCount: 1, measuredUsedMiB: 1_000 });
    expect(availableMiB(card)).toBe(V100_16 - 10_400);
    expect(placeLease([card], { vramMiB: 6_000 }, {})).toMatchObject({
      ok: false,
      reason: 'no-capacity',
    });
  });

  it('puts a small model on the fullest card it fits, keeping a whole card for a big one', () => {
    const cards = [
      gpu('GPU-empty'),
      gpu('GPU-half', { leasedMiB: 8_400, measuredUsedMiB: 8_400, leaseCount: 1 }),
    ];
    expect(placed(placeLease(cards, { vramMiB: 3_000 }, {}))).toBe('GPU-half');
  });

  it('packs a stream of small models so a 15 GB model still finds a whole V100', () => {
    let cards = [gpu('GPU-0'), gpu('GPU-1'), gpu('GPU-2', { node: 'node-b' })];
    for (let i = 0; i < 6; i += 1) {
      const decision = placeLease(cards, { vramMiB: 1_800 }, {});
      expect(decision.ok).toBe(true);
      cards = apply(cards, decision);
    }
    // six 2.2 GB leases fill less than one card: the other two stay whole
    expect(cards.filter((c) => c.leaseCount === 0)).toHaveLength(2);
    const big = placeLease(cards, { vramMiB: 15_000 }, {});
    expect(big.ok).toBe(true);
    cards = apply(cards, big);
    expect(placeLease(cards, { vramMiB: 15_000 }, {}).ok).toBe(true);
  });

  it('takes a big model to the 32 GB card and a small one to the 16 GB card it fits best', () => {
    const cards = [
      gpu('GPU-16', { node: 'node-16' }),
      gpu('GPU-32', { node: 'node-32', totalMiB: V100_32 }),
    ];
    expect(placed(placeLease(cards, { vramMiB: 20_000 }, {}))).toBe('GPU-32');
    expect(placed(placeLease(cards, { vramMiB: 2_000 }, {}))).toBe('GPU-16');
  });

  it('places only on nodes carrying every requested label', () => {
    const cards = [
      gpu('GPU-a', { labels: { zone: 'a', tier: 'gold' } }),
      gpu('GPU-b', { labels: { zone: 'b' }, leasedMiB: 10_000, leaseCount: 1 }),
    ];
    expect(placed(placeLease(cards, { vramMiB: 1_000, nodeLabels: { zone: 'a' } }, {}))).toBe(
      'GPU-a',
    );
    expect(placeLease(cards, { vramMiB: 1_000, nodeLabels: { zone: 'c' } }, {})).toMatchObject({
      ok: false,
      reason: 'no-matching-node',
    });
    // a label present on the prototype chain is not a label
    expect(placeLease(cards, { vramMiB: 1_000, nodeLabels: { toString: 'x' } }, {})).toMatchObject({
      ok: false,
      reason: 'no-matching-node',
    });
  });

  it('says why it refuses', () => {
    expect(placeLease([gpu('GPU-1')], { vramMiB: 0 }, {})).toMatchObject({
      reason: 'invalid-request',
    });
    expect(placeLease([gpu('GPU-1')], { vramMiB: 1.5 }, {})).toMatchObject({
      reason: 'invalid-request',
    });
    expect(placeLease([], { vramMiB: 1_000 }, {})).toMatchObject({ reason: 'no-matching-node' });
    expect(placeLease([gpu('GPU-1')], { vramMiB: 16_000 }, {})).toMatchObject({
      reason: 'too-large',
    });
    expect(placeLease([gpu('GPU-1', { eligible: false })], { vramMiB: 1_000 }, {})).toMatchObject({
      reason: 'no-eligible-gpu',
    });
    expect(
      placeLease([gpu('GPU-1', { measuredUsedMiB: 2_000 })], { vramMiB: 1_000 }, {}),
    ).toMatchObject({ reason: 'unsettled' });
  });

  it('skips a GPU that uses more than its leases account for until it settles', () => {
    const busy = gpu('GPU-busy', { measuredUsedMiB: 5_000, leasedMiB: 2_400, leaseCount: 1 });
    const idle = gpu('GPU-idle', { node: 'node-b' });
    expect(isUnsettled(busy)).toBe(true);
    expect(placed(placeLease([busy, idle], { vramMiB: 1_000 }, {}))).toBe('GPU-idle');
    // within the tolerance it is settled
    const settled = { ...busy, measuredUsedMiB: 2_500 };
    expect(isUnsettled(settled, 256)).toBe(false);
    expect(placed(placeLease([settled, idle], { vramMiB: 1_000 }, {}))).toBe('GPU-busy');
    // the caller's own judgement wins over the figures
    expect(placed(placeLease([{ ...busy, unsettled: false }], { vramMiB: 1_000 }, {}))).toBe(
      'GPU-busy',
    );
    expect(placeLease([{ ...settled, unsettled: true }], { vramMiB: 1_000 }, {})).toMatchObject({
      reason: 'unsettled',
    });
  });

  it('breaks ties towards the card with more leases, then by node and uuid', () => {
    const a = gpu('GPU-b', { node: 'node-2' });
    const b = gpu('GPU-a', { node: 'node-2' });
    const c = gpu('GPU-z', { node: 'node-1' });
    expect(placed(placeLease([a, b, c], { vramMiB: 1_000 }, {}))).toBe('GPU-z');
    expect(placed(placeLease([a, b], { vramMiB: 1_000 }, {}))).toBe('GPU-a');
    // same room left, but one already holds a lease (its measured use was unlike the others')
    const withLease = gpu('GPU-y', { node: 'node-9', leasedMiB: 0, leaseCount: 1 });
    expect(placed(placeLease([a, b, c, withLease], { vramMiB: 1_000 }, {}))).toBe('GPU-y');
  });
});

// ---- properties ----

const arbGpu = (i: number) =>
  fc
    .record({
      node: fc.constantFrom('node-a', 'node-b', 'node-c'),
      totalMiB: fc.constantFrom(V100_16, V100_32),
      reservedMiB: fc.integer({ min: 0, max: 600 }),
      leasedMiB: fc.integer({ min: 0, max: 16_000 }),
      extraUse: fc.integer({ min: -2_000, max: 2_000 }),
      leaseCount: fc.integer({ min: 0, max: 4 }),
      eligible: fc.boolean(),
      zone: fc.constantFrom('a', 'b'),
    })
    .map((r): GpuCapacity => ({
      uuid: `GPU-${i}`,
      node: r.node,
      totalMiB: r.totalMiB,
      reservedMiB: r.reservedMiB,
      leasedMiB: Math.min(r.leasedMiB, r.totalMiB - r.reservedMiB),
      measuredUsedMiB: Math.max(0, Math.min(r.leasedMiB, r.totalMiB) + r.extraUse),
      leaseCount: r.leaseCount,
      labels: { zone: r.zone },
      eligible: r.eligible,
    }));

const arbFleet = fc
  .integer({ min: 1, max: 8 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => arbGpu(i))));

const arbRequest = fc.record({
  vramMiB: fc.integer({ min: 1, max: 33_000 }),
  nodeLabels: fc.option(fc.record({ zone: fc.constantFrom('a', 'b') }), { nil: undefined }),
});

const options = { cudaContextMiB: 400, settleToleranceMiB: 256 };

/** The cards' room for leases, largest first. */
const holes = (gpus: GpuCapacity[]) => gpus.map(availableMiB).sort((a, b) => b - a);

function lexicographicallyAtLeast(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i += 1) {
    if (a[i] !== b[i]) return a[i]! > b[i]!;
  }
  return true;
}

describe('placeLease properties', () => {
  it('never over-commits a card, over any sequence of leases', () => {
    fc.assert(
      fc.property(arbFleet, fc.array(arbRequest, { maxLength: 30 }), (fleet, requests) => {
        let gpus = fleet.map((g) => ({ ...g, measuredUsedMiB: g.leasedMiB }));
        for (const request of requests) {
          const decision = placeLease(gpus, request, options);
          if (decision.ok) {
            const card = gpus.find((g) => g.uuid === decision.gpu)!;
            expect(decision.chargedMiB).toBeLessThanOrEqual(availableMiB(card));
          }
          gpus = apply(gpus, decision).map((g) => ({ ...g, measuredUsedMiB: g.leasedMiB }));
          for (const g of gpus) expect(g.leasedMiB + g.reservedMiB).toBeLessThanOrEqual(g.totalMiB);
        }
      }),
    );
  });

  it('never places on an ineligible, unsettled or unlabelled GPU', () => {
    fc.assert(
      fc.property(arbFleet, arbRequest, (gpus, request) => {
        const decision = placeLease(gpus, request, options);
        if (!decision.ok) return;
        const card = gpus.find((g) => g.uuid === decision.gpu)!;
        expect(card.eligible).toBe(true);
        expect(isUnsettled(card, options.settleToleranceMiB)).toBe(false);
        if (request.nodeLabels) expect(card.labels.zone).toBe(request.nodeLabels.zone);
        expect(decision.node).toBe(card.node);
      }),
    );
  });

  it('refuses only when no card could take the lease', () => {
    fc.assert(
      fc.property(arbFleet, arbRequest, (gpus, request) => {
        const decision = placeLease(gpus, request, options);
        const fitting = gpus.filter(
          (g) =>
            g.eligible &&
            !isUnsettled(g, options.settleToleranceMiB) &&
            (!request.nodeLabels || g.labels.zone === request.nodeLabels.zone) &&
            availableMiB(g) >= request.vramMiB + options.cudaContextMiB,
        );
        expect(decision.ok).toBe(fitting.length > 0);
      }),
    );
  });

  it('leaves the largest holes at least as large as any other choice would (a big model still fits)', () => {
    fc.assert(
      fc.property(arbFleet, arbRequest, (gpus, request) => {
        const decision = placeLease(gpus, request, options);
        if (!decision.ok) return;
        const ours = holes(apply(gpus, decision));
        const charge = request.vramMiB + options.cudaContextMiB;
        const alternatives = gpus.filter(
          (g) =>
            g.eligible &&
            !isUnsettled(g, options.settleToleranceMiB) &&
            (!request.nodeLabels || g.labels.zone === request.nodeLabels.zone) &&
            availableMiB(g) >= charge,
        );
        for (const alt of alternatives) {
          const theirs = holes(
            apply(gpus, {
              ok: true,
              gpu: alt.uuid,
              node: alt.node,
              chargedMiB: charge,
              remainingMiB: 0,
            }),
          );
          expect(lexicographicallyAtLeast(ours, theirs)).toBe(true);
          // in particular: whatever big model fits after another choice fits after ours
          expect(ours[0]).toBeGreaterThanOrEqual(theirs[0]!);
        }
      }),
    );
  });

  it('decides the same whatever the order of the GPUs', () => {
    fc.assert(
      fc.property(
        arbFleet.chain((gpus) =>
          fc.tuple(fc.constant(gpus), fc.shuffledSubarray(gpus, { minLength: gpus.length })),
        ),
        arbRequest,
        ([gpus, shuffled], request) => {
          expect(placeLease(shuffled, request, options)).toEqual(
            placeLease(gpus, request, options),
          );
        },
      ),
    );
  });
});
