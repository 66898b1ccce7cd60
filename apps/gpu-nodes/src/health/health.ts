/**
 * Health of GPUs and GPU nodes: a score from 0 to 1 from what the agent reads and what callers
 * report, and a state with hysteresis so a node does not flap in and out of routing. Pure: the
 * GPU-node service feeds it heartbeats and a periodic sweep, and keeps the state it returns.
 *
 * A GPU's score is the product of factors, each from 0 to 1:
 * - **lost** (fell off the bus, needs a reset): 0.
 * - **XID**: a critical XID (`CRITICAL_XIDS`: ECC double-bit errors and page retirement, NVLink,
 *   fell off the bus, micro-controller halts, GSP errors) is 0; an XID that an application's
 *   own fault raises (`APPLICATION_XIDS`: 13, 31, 43, 45, ...) costs little; any other 0.75.
 * - **ECC**: any uncorrectable (double-bit) error since the driver loaded 0.4; a failed row
 *   remap 0; rows remapped and waiting for a reset 0.9.
 * - **temperature** against the slowdown threshold `S` (V100: 87 C, where the source does not
 *   say): 1 up to `S - 10`, falling linearly to 0.6 at `S`; at or past `S` the GPU slows itself
 *   down: 0.4.
 * - **utilisation**: a busy card is healthy but has less to give: 1 up to 50 %, down to 0.8 at
 *   100 %.
 *
 * A node's score multiplies:
 * - **freshness** of its last heartbeat: 1 up to 1.5 intervals, falling linearly to 0 at
 *   `offlineAfterIntervals` (default 3). With the defaults a silent node scores under 0.5 after
 *   2.25 intervals and is offline after 3.
 * - **its GPUs**: the mean of their scores (a node with one of four cards lost is degraded,
 *   not gone); no GPUs, or a source the agent could not read, 0.
 * - **callers' error rate** `e` (failed calls over the window): `1 - min(1, 2e)`.
 *
 * States: `healthy` (score >= 0.8), `degraded` (>= 0.5), `unhealthy` (< 0.5), `offline` (no
 * heartbeat for `offlineAfterIntervals` intervals), `draining` (an operator asked; wins over
 * all but offline). Hysteresis:
 * - a node under 0.5 leaves at once; to rejoin it needs `rejoinAfter` (default 3) consecutive
 *   fresh heartbeats scoring at least `rejoinScore` (0.6); any worse heartbeat starts again;
 * - a node seen for the first time joins on its first good heartbeat;
 * - healthy falls to degraded only under `healthyScore - band` (0.75); degraded rises to
 *   healthy at `healthyScore` (0.8).
 */

export const NODE_STATES = ['healthy', 'degraded', 'unhealthy', 'draining', 'offline'] as const;
export type NodeState = (typeof NODE_STATES)[number];

/**
 * XIDs after which the GPU is not to be trusted until it is reset or replaced (NVIDIA's XID
 * catalogue): 48 double-bit ECC, 62 micro-controller halt, 63/64 page retirement or row remap
 * event/failure, 74 NVLink error, 79 fell off the bus, 92 high single-bit ECC rate, 94/95
 * contained/uncontained ECC, 119/120 GSP errors, 140 unrecovered ECC.
 */
export const CRITICAL_XIDS: ReadonlySet<number> = new Set([
  48, 62, 63, 64, 74, 79, 92, 94, 95, 119, 120, 140,
]);
/** XIDs an application's own fault raises (bad kernel, page fault, killed context). */
export const APPLICATION_XIDS: ReadonlySet<number> = new Set([13, 31, 32, 43, 45, 68, 69]);

/** V100 (nvidia-smi -q: "GPU Slowdown Temp : 87 C"; shutdown 90 C, max operating 83 C). */
export const DEFAULT_SLOWDOWN_TEMPERATURE_C = 87;

/** What the GPU score reads of an agent's `GpuReading`. */
export interface GpuHealthInput {
  lost: boolean;
  lastXid: number | null;
  eccUncorrectable: number | null;
  remappedRowsUncorrectable: number | null;
  rowRemapFailed: boolean | null;
  temperatureC: number | null;
  slowdownTemperatureC: number | null;
  utilizationPercent: number | null;
}

export type HealthReason =
  | 'lost'
  | 'critical-xid'
  | 'xid'
  | 'ecc-uncorrectable'
  | 'row-remap-failed'
  | 'rows-remapped'
  | 'hot'
  | 'slowing-down'
  | 'busy'
  | 'late-heartbeat'
  | 'no-gpus'
  | 'source-error'
  | 'gpus-unhealthy'
  | 'caller-errors';

export interface Score {
  /** 0 (do not use) to 1 (fully healthy). */
  score: number;
  /** What lowered it, worst first. */
  reasons: HealthReason[];
}

export interface HealthConfig {
  healthyScore: number;
  /** Under this a node leaves routing and placement at once. */
  unhealthyBelow: number;
  /** How far under `healthyScore` a healthy node may dip before it is degraded. */
  band: number;
  /** Consecutive good heartbeats a node that left needs to rejoin. */
  rejoinAfter: number;
  /** What a heartbeat must score to count towards rejoining. */
  rejoinScore: number;
  /** No heartbeat for this many intervals: offline. */
  offlineAfterIntervals: number;
  /** A heartbeat this many intervals old is still fully fresh. */
  lateAfterIntervals: number;
  slowdownTemperatureC: number;
  /** Each unit of caller error rate costs this much score. */
  errorRateWeight: number;
}

export const DEFAULT_HEALTH_CONFIG: Readonly<HealthConfig> = Object.freeze({
  healthyScore: 0.8,
  unhealthyBelow: 0.5,
  band: 0.05,
  rejoinAfter: 3,
  rejoinScore: 0.6,
  offlineAfterIntervals: 3,
  lateAfterIntervals: 1.5,
  slowdownTemperatureC: DEFAULT_SLOWDOWN_TEMPERATURE_C,
  errorRateWeight: 2,
});

const clamp01 = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

/** Multiplies the factors, naming each that is under 1 (the smallest first). */
function combine(factors: Array<[HealthReason, number]>): Score {
  let score = 1;
  const lowered: Array<[HealthReason, number]> = [];
  for (const [reason, factor] of factors) {
    const f = clamp01(factor);
    score *= f;
    if (f < 1) lowered.push([reason, f]);
  }
  lowered.sort((a, b) => a[1] - b[1]);
  return { score: round(score), reasons: lowered.map(([reason]) => reason) };
}

/** Scores are kept to 4 decimals so that equal inputs compare equal after arithmetic. */
const round = (x: number) => Math.round(x * 10_000) / 10_000;

function xidFactor(xid: number | null): [HealthReason, number] {
  if (!xid) return ['xid', 1];
  if (CRITICAL_XIDS.has(xid)) return ['critical-xid', 0];
  if (APPLICATION_XIDS.has(xid)) return ['xid', 0.95];
  return ['xid', 0.75];
}

function temperatureFactor(gpu: GpuHealthInput, config: HealthConfig): [HealthReason, number] {
  if (gpu.temperatureC === null) return ['hot', 1];
  const slowdown = gpu.slowdownTemperatureC ?? config.slowdownTemperatureC;
  if (gpu.temperatureC >= slowdown) return ['slowing-down', 0.4];
  const warmFrom = slowdown - 10;
  if (gpu.temperatureC <= warmFrom) return ['hot', 1];
  return ['hot', 1 - (0.4 * (gpu.temperatureC - warmFrom)) / 10];
}

function utilisationFactor(util: number | null): [HealthReason, number] {
  if (util === null || util <= 50) return ['busy', 1];
  return ['busy', 1 - (0.2 * (Math.min(util, 100) - 50)) / 50];
}

/** One GPU's score from its last reading. */
export function gpuHealth(gpu: GpuHealthInput, config: Partial<HealthConfig> = {}): Score {
  const c = { ...DEFAULT_HEALTH_CONFIG, ...config };
  if (gpu.lost) return { score: 0, reasons: ['lost'] };
  return combine([
    xidFactor(gpu.lastXid),
    ['ecc-uncorrectable', (gpu.eccUncorrectable ?? 0) > 0 ? 0.4 : 1],
    ['row-remap-failed', gpu.rowRemapFailed ? 0 : 1],
    ['rows-remapped', (gpu.remappedRowsUncorrectable ?? 0) > 0 ? 0.9 : 1],
    temperatureFactor(gpu, c),
    utilisationFactor(gpu.utilizationPercent),
  ]);
}

export interface NodeHealthInput {
  heartbeatAgeMs: number;
  intervalMs: number;
  /** The scores of the node's GPUs in its last heartbeat. */
  gpus: readonly Score[];
  /** The agent could not read its source for the last heartbeat. */
  sourceError?: boolean;
  /** Share of callers' calls to the node that failed recently, 0 to 1. */
  errorRate?: number;
}

/** How fresh the last heartbeat is: 1 while on time, 0 when the node would be offline. */
export function freshness(
  heartbeatAgeMs: number,
  intervalMs: number,
  config: Partial<HealthConfig> = {},
): number {
  const c = { ...DEFAULT_HEALTH_CONFIG, ...config };
  const intervals = heartbeatAgeMs / intervalMs;
  if (intervals <= c.lateAfterIntervals) return 1;
  return clamp01(
    1 - (intervals - c.lateAfterIntervals) / (c.offlineAfterIntervals - c.lateAfterIntervals),
  );
}

/** A node's score from its heartbeat's age, its GPUs and what callers report. */
export function nodeHealth(node: NodeHealthInput, config: Partial<HealthConfig> = {}): Score {
  const c = { ...DEFAULT_HEALTH_CONFIG, ...config };
  const gpuMean =
    node.gpus.length === 0
      ? 0
      : node.gpus.reduce((sum, gpu) => sum + gpu.score, 0) / node.gpus.length;
  return combine([
    ['late-heartbeat', freshness(node.heartbeatAgeMs, node.intervalMs, c)],
    ['source-error', node.sourceError ? 0 : 1],
    [node.gpus.length === 0 ? 'no-gpus' : 'gpus-unhealthy', gpuMean],
    ['caller-errors', 1 - Math.min(1, c.errorRateWeight * clamp01(node.errorRate ?? 0))],
  ]);
}

/** A node's state, kept by the caller between observations. */
export interface NodeHealthState {
  state: NodeState;
  /** The state by health alone, under any drain. */
  health: Exclude<NodeState, 'draining'>;
  /** Good heartbeats still needed before a node that left may rejoin (0 once it is in). */
  rejoinIn: number;
  /** Open for routing but closed to new leases. */
  cordoned: boolean;
}

/** A node not yet heard from: it joins on its first good heartbeat. */
export function initialNodeHealthState(): NodeHealthState {
  return { state: 'offline', health: 'offline', rejoinIn: 1, cordoned: false };
}

export interface NodeObservation {
  score: number;
  heartbeatAgeMs: number;
  intervalMs: number;
  draining: boolean;
  cordoned: boolean;
  /**
   * This observation follows a new heartbeat (default). A sweep that only ages the last one
   * passes false: it can make a node leave but never counts towards its rejoining.
   */
  fresh?: boolean;
}

function byScore(score: number, previous: NodeState, c: HealthConfig): 'healthy' | 'degraded' {
  if (score >= c.healthyScore) return 'healthy';
  if (previous === 'healthy' && score >= c.healthyScore - c.band) return 'healthy';
  return 'degraded';
}

/** The node's next state after one observation. */
export function nextNodeState(
  previous: NodeHealthState,
  observation: NodeObservation,
  config: Partial<HealthConfig> = {},
): NodeHealthState {
  const c = { ...DEFAULT_HEALTH_CONFIG, ...config };
  const fresh = observation.fresh ?? true;
  const cordoned = observation.cordoned;
  const settle = (health: NodeHealthState['health'], rejoinIn: number): NodeHealthState => ({
    state: observation.draining && health !== 'offline' ? 'draining' : health,
    health,
    rejoinIn,
    cordoned,
  });

  if (observation.heartbeatAgeMs >= c.offlineAfterIntervals * observation.intervalMs) {
    return settle('offline', Math.max(previous.rejoinIn, c.rejoinAfter));
  }
  if (observation.score < c.unhealthyBelow) {
    return settle('unhealthy', c.rejoinAfter);
  }
  const wasIn = previous.health === 'healthy' || previous.health === 'degraded';
  if (wasIn) return settle(byScore(observation.score, previous.health, c), 0);

  // out of routing: only fresh heartbeats good enough count towards rejoining
  if (!fresh) return settle(previous.health, previous.rejoinIn);
  if (observation.score < c.rejoinScore) {
    return settle(previous.health === 'offline' ? 'unhealthy' : previous.health, c.rejoinAfter);
  }
  const rejoinIn = Math.max(0, previous.rejoinIn - 1);
  if (rejoinIn > 0) return settle('unhealthy', rejoinIn);
  return settle(byScore(observation.score, 'degraded', c), 0);
}

/** Calls may be routed to the node. */
export function isRoutable(state: NodeHealthState | NodeState): boolean {
  const s = typeof state === 'string' ? state : state.state;
  return s === 'healthy' || s === 'degraded';
}

/** New leases may be placed on the node. */
export function isPlaceable(state: NodeHealthState): boolean {
  return isRoutable(state) && !state.cordoned;
}
