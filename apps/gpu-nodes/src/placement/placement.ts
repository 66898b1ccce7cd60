/**
 * VRAM placement: which GPU a lease for a model's memory goes to. Pure: the GPU-node service
 * gathers each GPU's capacity (from the registry, the last heartbeat and the live leases) and
 * asks this module for one decision per lease.
 *
 * The rules:
 *
 * 1. **What a lease costs.** A lease for `vramMiB` is charged `vramMiB + cudaContextMiB`: every
 *    process that opens a CUDA context on the card takes its own context memory (about 300 to
 *    500 MiB on a V100, more with cuDNN/cuBLAS handles), which the model's figure leaves out.
 * 2. **What a card can give.** A GPU's room for leases is `totalMiB - reservedMiB - committed`,
 *    where `reservedMiB` is what the driver keeps for itself and `committed` is the larger of
 *    what its live leases are charged and what it measures as used: memory taken by anything
 *    else is not given twice, and memory promised to a lease still loading is not given either.
 *    Nothing is ever placed beyond that room: no over-commit.
 * 3. **Only where it may go.** Only GPUs marked eligible (node healthy or degraded, not
 *    cordoned or draining, GPU not lost) whose labels carry every label the request names, and
 *    that are settled: a GPU that measures more in use than its leases account for (beyond a
 *    tolerance) takes no new lease until it settles, since whatever holds that memory may grow.
 * 4. **Best fit.** Among the cards where the lease fits, the one it leaves with the least room.
 *    Best fit keeps the largest holes whole: after each decision the free room of the cards,
 *    largest first, is at least as large as after any other choice, so a big model that could
 *    still be placed by some choice can still be placed after this one.
 * 5. **Deterministic.** Ties go to the card that already holds more leases, then to the node and
 *    the GPU with the smaller name; the order of the input does not matter.
 */

/** One GPU as placement sees it. All figures in MiB. */
export interface GpuCapacity {
  uuid: string;
  node: string;
  totalMiB: number;
  /** Kept by the driver (DCGM_FI_DEV_FB_RESERVED); never given to a process. */
  reservedMiB: number;
  /** What the GPU last measured as used by processes. */
  measuredUsedMiB: number;
  /** The sum of what the GPU's live leases are charged (their VRAM plus a context each). */
  leasedMiB: number;
  leaseCount: number;
  /** The node's labels (and any of the GPU's own, such as its model). */
  labels: Readonly<Record<string, string>>;
  /** The node is routable and neither cordoned nor draining, and the GPU is not lost. */
  eligible: boolean;
  /** Measured use exceeds what the leases account for; computed with `isUnsettled` if absent. */
  unsettled?: boolean;
}

export interface PlacementRequest {
  /** The model's memory, weights and working set, without the CUDA context. */
  vramMiB: number;
  /** Labels the node must carry, each with this exact value. */
  nodeLabels?: Readonly<Record<string, string>>;
}

export interface PlacementOptions {
  /** Charged to every lease on top of its VRAM: the CUDA context of its process. */
  cudaContextMiB?: number;
  /** How far measured use may exceed what leases account for before a GPU is unsettled. */
  settleToleranceMiB?: number;
}

export type PlacementRefusal =
  /** The request itself is not a placeable amount. */
  | 'invalid-request'
  /** No GPU carries the labels the request names. */
  | 'no-matching-node'
  /** GPUs match, but none may take a lease now (node unhealthy, cordoned, draining, GPU lost). */
  | 'no-eligible-gpu'
  /** Eligible GPUs match, but every one is unsettled. */
  | 'unsettled'
  /** Larger than any matching card could hold even empty: waiting will not help. */
  | 'too-large'
  /** It would fit an empty matching card, but no card has that much room now. */
  | 'no-capacity';

export type PlacementDecision =
  | { ok: true; gpu: string; node: string; chargedMiB: number; remainingMiB: number }
  | { ok: false; reason: PlacementRefusal; detail: string };

/** The per-process CUDA context charged to a lease unless configured (V100: 300 to 500 MiB). */
export const DEFAULT_CUDA_CONTEXT_MIB = 400;
/** Measured use may exceed the leases by this much (driver bookkeeping, small tools). */
export const DEFAULT_SETTLE_TOLERANCE_MIB = 256;

/** What a lease for `vramMiB` is charged on the card. */
export function chargedMiB(vramMiB: number, options: PlacementOptions = {}): number {
  return vramMiB + (options.cudaContextMiB ?? DEFAULT_CUDA_CONTEXT_MIB);
}

/** The GPU measures more memory in use than its leases account for, beyond the tolerance. */
export function isUnsettled(
  gpu: Pick<GpuCapacity, 'measuredUsedMiB' | 'leasedMiB'>,
  toleranceMiB: number = DEFAULT_SETTLE_TOLERANCE_MIB,
): boolean {
  return gpu.measuredUsedMiB > gpu.leasedMiB + toleranceMiB;
}

/** Room left on the card for new leases (never negative). */
export function availableMiB(
  gpu: Pick<GpuCapacity, 'totalMiB' | 'reservedMiB' | 'measuredUsedMiB' | 'leasedMiB'>,
): number {
  const committed = Math.max(gpu.leasedMiB, gpu.measuredUsedMiB);
  return Math.max(0, gpu.totalMiB - gpu.reservedMiB - committed);
}

/** The GPU carries every label the request names, with the same value. */
export function matchesLabels(
  labels: Readonly<Record<string, string>>,
  wanted: Readonly<Record<string, string>> | undefined,
): boolean {
  if (!wanted) return true;
  return Object.entries(wanted).every(
    ([key, value]) => Object.prototype.hasOwnProperty.call(labels, key) && labels[key] === value,
  );
}

function isSettled(gpu: GpuCapacity, options: PlacementOptions): boolean {
  return !(gpu.unsettled ?? isUnsettled(gpu, options.settleToleranceMiB));
}

/** Orders fitting cards: least room left first, then more leases, then node, then uuid. */
function better(
  a: { gpu: GpuCapacity; left: number },
  b: { gpu: GpuCapacity; left: number },
): boolean {
  if (a.left !== b.left) return a.left < b.left;
  if (a.gpu.leaseCount !== b.gpu.leaseCount) return a.gpu.leaseCount > b.gpu.leaseCount;
  if (a.gpu.node !== b.gpu.node) return a.gpu.node < b.gpu.node;
  return a.gpu.uuid < b.gpu.uuid;
}

const labelText = (labels: Readonly<Record<string, string>> | undefined) =>
  Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** Picks the GPU for one lease, or says why none can take it. */
export function placeLease(
  gpus: readonly GpuCapacity[],
  request: PlacementRequest,
  options: PlacementOptions = {},
): PlacementDecision {
  const { vramMiB } = request;
  if (!Number.isInteger(vramMiB) || vramMiB <= 0) {
    return {
      ok: false,
      reason: 'invalid-request',
      detail: `vramMiB must be a positive whole number of MiB, not ${String(vramMiB)}`,
    };
  }
  const charge = chargedMiB(vramMiB, options);

  // one pass, no copies: this runs for every lease over the whole fleet
  let matching = 0;
  let eligible = 0;
  let settled = 0;
  let largestCard = 0;
  let roomiest = 0;
  let best: { gpu: GpuCapacity; left: number } | undefined;
  for (const gpu of gpus) {
    if (!matchesLabels(gpu.labels, request.nodeLabels)) continue;
    matching += 1;
    largestCard = Math.max(largestCard, gpu.totalMiB - gpu.reservedMiB);
    if (!gpu.eligible) continue;
    eligible += 1;
    if (!isSettled(gpu, options)) continue;
    settled += 1;
    const available = availableMiB(gpu);
    roomiest = Math.max(roomiest, available);
    const left = available - charge;
    if (left < 0) continue;
    const candidate = { gpu, left };
    if (!best || better(candidate, best)) best = candidate;
  }

  if (matching === 0) {
    return {
      ok: false,
      reason: 'no-matching-node',
      detail: request.nodeLabels
        ? `no GPU node carries the labels ${labelText(request.nodeLabels)}`
        : 'no GPU is registered',
    };
  }
  if (charge > largestCard) {
    return {
      ok: false,
      reason: 'too-large',
      detail: `${vramMiB} MiB plus a ${charge - vramMiB} MiB CUDA context is more than the largest matching GPU holds (${largestCard} MiB usable)`,
    };
  }
  if (eligible === 0) {
    return {
      ok: false,
      reason: 'no-eligible-gpu',
      detail: `${matching} matching GPU(s), none on a healthy node open for placement`,
    };
  }
  if (settled === 0) {
    return {
      ok: false,
      reason: 'unsettled',
      detail: `${eligible} eligible GPU(s), each using more memory than its leases account for; retry once it settles`,
    };
  }
  if (!best) {
    return {
      ok: false,
      reason: 'no-capacity',
      detail: `${charge} MiB needed (with the CUDA context); the roomiest eligible GPU has ${roomiest} MiB free for leases`,
    };
  }
  return {
    ok: true,
    gpu: best.gpu.uuid,
    node: best.gpu.node,
    chargedMiB: charge,
    remainingMiB: best.left,
  };
}
