import fc from 'fast-check';
import {
  DEFAULT_HEALTH_CONFIG,
  freshness,
  gpuHealth,
  initialNodeHealthState,
  isPlaceable,
  isRoutable,
  nextNodeState,
  nodeHealth,
  type GpuHealthInput,
  type NodeHealthState,
  type NodeObservation,
} from './health';

const INTERVAL = 5_000;

const fine: GpuHealthInput = {
  lost: false,
  lastXid: 0,
  eccUncorrectable: 0,
  remappedRowsUncorrectable: null,
  rowRemapFailed: null,
  temperatureC: 45,
  slowdownTemperatureC: null,
  utilizationPercent: 30,
};

describe('gpuHealth', () => {
  it('scores a cool, error-free V100 at 1', () => {
    expect(gpuHealth(fine)).toEqual({ score: 1, reasons: [] });
  });

  it('scores a GPU that fell off the bus at 0', () => {
    expect(gpuHealth({ ...fine, lost: true })).toEqual({ score: 0, reasons: ['lost'] });
  });

  it.each([48, 63, 64, 74, 79, 94, 95])('takes a GPU with critical XID %i out', (xid) => {
    expect(gpuHealth({ ...fine, lastXid: xid })).toEqual({ score: 0, reasons: ['critical-xid'] });
  });

  it('barely minds an XID an application raised itself', () => {
    const { score, reasons } = gpuHealth({ ...fine, lastXid: 13 });
    expect(score).toBeGreaterThanOrEqual(DEFAULT_HEALTH_CONFIG.healthyScore);
    expect(reasons).toEqual(['xid']);
    expect(gpuHealth({ ...fine, lastXid: 61 }).score).toBe(0.75);
  });

  it('counts uncorrectable ECC errors and failed row remaps hard', () => {
    expect(gpuHealth({ ...fine, eccUncorrectable: 2 }).score).toBeLessThan(0.5);
    expect(gpuHealth({ ...fine, rowRemapFailed: true }).score).toBe(0);
    expect(gpuHealth({ ...fine, remappedRowsUncorrectable: 1 }).score).toBe(0.9);
  });

  it('lowers the score as the GPU nears its slowdown temperature, V100 87 C by default', () => {
    expect(gpuHealth({ ...fine, temperatureC: 77 }).score).toBe(1);
    expect(gpuHealth({ ...fine, temperatureC: 82 }).score).toBe(0.8);
    expect(gpuHealth({ ...fine, temperatureC: 87 })).toEqual({
      score: 0.4,
      reasons: ['slowing-down'],
    });
    // a GPU that reports its own threshold is judged by it
    expect(gpuHealth({ ...fine, temperatureC: 85, slowdownTemperatureC: 95 }).score).toBe(1);
  });

  it('gives a busy card a little less', () => {
    expect(gpuHealth({ ...fine, utilizationPercent: 100 })).toEqual({
      score: 0.8,
      reasons: ['busy'],
    });
  });

  it('stays within 0 and 1 and names what lowered it', () => {
    fc.assert(
      fc.property(
        fc.record({
          lost: fc.boolean(),
          lastXid: fc.option(fc.integer({ min: 0, max: 200 }), { nil: null }),
          eccUncorrectable: fc.option(fc.nat(10), { nil: null }),
          remappedRowsUncorrectable: fc.option(fc.nat(10), { nil: null }),
          rowRemapFailed: fc.option(fc.boolean(), { nil: null }),
          temperatureC: fc.option(fc.integer({ min: -10, max: 120 }), { nil: null }),
          slowdownTemperatureC: fc.option(fc.integer({ min: 60, max: 100 }), { nil: null }),
          utilizationPercent: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
        }),
        (gpu) => {
          const { score, reasons } = gpuHealth(gpu);
          expect(score).toBeGreaterThanOrEqual(0);
          expect(score).toBeLessThanOrEqual(1);
          expect(score < 1).toBe(reasons.length > 0);
        },
      ),
    );
  });
});

describe('nodeHealth', () => {
  const gpus = [gpuHealth(fine), gpuHealth(fine)];

  it('is 1 for a node beating on time with healthy GPUs and no caller errors', () => {
    expect(nodeHealth({ heartbeatAgeMs: 4_000, intervalMs: INTERVAL, gpus })).toEqual({
      score: 1,
      reasons: [],
    });
  });

  it('falls under 0.5 after 2.25 silent intervals and reaches 0 at 3', () => {
    expect(freshness(1.5 * INTERVAL, INTERVAL)).toBe(1);
    expect(freshness(2.25 * INTERVAL, INTERVAL)).toBe(0.5);
    expect(
      nodeHealth({ heartbeatAgeMs: 2.5 * INTERVAL, intervalMs: INTERVAL, gpus }).score,
    ).toBeLessThan(0.5);
    expect(freshness(3 * INTERVAL, INTERVAL)).toBe(0);
  });

  it('is degraded, not gone, with one of four GPUs lost', () => {
    const four = [
      gpuHealth(fine),
      gpuHealth(fine),
      gpuHealth(fine),
      gpuHealth({ ...fine, lost: true }),
    ];
    expect(nodeHealth({ heartbeatAgeMs: 0, intervalMs: INTERVAL, gpus: four })).toEqual({
      score: 0.75,
      reasons: ['gpus-unhealthy'],
    });
  });

  it('is 0 when the agent could not read its source or sees no GPU', () => {
    expect(
      nodeHealth({ heartbeatAgeMs: 0, intervalMs: INTERVAL, gpus, sourceError: true }).score,
    ).toBe(0);
    expect(nodeHealth({ heartbeatAgeMs: 0, intervalMs: INTERVAL, gpus: [] })).toEqual({
      score: 0,
      reasons: ['no-gpus'],
    });
  });

  it('counts the error rate callers report', () => {
    expect(
      nodeHealth({ heartbeatAgeMs: 0, intervalMs: INTERVAL, gpus, errorRate: 0.1 }).score,
    ).toBe(0.8);
    expect(
      nodeHealth({ heartbeatAgeMs: 0, intervalMs: INTERVAL, gpus, errorRate: 0.3 }).score,
    ).toBeLessThan(0.5);
  });
});

const beat = (score: number, extra: Partial<NodeObservation> = {}): NodeObservation => ({
  score,
  heartbeatAgeMs: 0,
  intervalMs: INTERVAL,
  draining: false,
  cordoned: false,
  ...extra,
});

function run(observations: NodeObservation[], from: NodeHealthState = initialNodeHealthState()) {
  const states: string[] = [];
  let state = from;
  for (const o of observations) {
    state = nextNodeState(state, o);
    states.push(state.state);
  }
  return { states, state };
}

describe('nextNodeState', () => {
  it('lets a new node join on its first good heartbeat', () => {
    expect(run([beat(0.9)]).states).toEqual(['healthy']);
    expect(run([beat(0.7)]).states).toEqual(['degraded']);
  });

  it('takes a node under 0.5 out at once and lets it back after three good heartbeats', () => {
    const { states } = run([beat(0.9), beat(0.4), beat(0.9), beat(0.9), beat(0.9), beat(0.9)]);
    expect(states).toEqual([
      'healthy',
      'unhealthy',
      'unhealthy',
      'unhealthy',
      'healthy',
      'healthy',
    ]);
  });

  it('does not flap when the score swings across 0.5', () => {
    const swings = Array.from({ length: 20 }, (_, i) => beat(i % 2 === 0 ? 0.45 : 0.95));
    const { states } = run([beat(0.9), ...swings]);
    expect(states.slice(1).every((s) => s === 'unhealthy')).toBe(true);
  });

  it('does not flap between healthy and degraded on a score hovering at 0.8', () => {
    const hover = Array.from({ length: 20 }, (_, i) => beat(i % 2 === 0 ? 0.78 : 0.82));
    expect(run([beat(0.9), ...hover]).states.every((s) => s === 'healthy')).toBe(true);
    expect(run([beat(0.7), beat(0.78), beat(0.79), beat(0.78)]).states).toEqual([
      'degraded',
      'degraded',
      'degraded',
      'degraded',
    ]);
    expect(run([beat(0.9), beat(0.74)]).states).toEqual(['healthy', 'degraded']);
  });

  it('needs the rejoining heartbeats in a row: one bad one starts again', () => {
    const { states } = run([
      beat(0.9),
      beat(0.3),
      beat(0.9),
      beat(0.9),
      beat(0.55),
      beat(0.9),
      beat(0.9),
      beat(0.9),
    ]);
    expect(states).toEqual([
      'healthy',
      'unhealthy',
      'unhealthy',
      'unhealthy',
      'unhealthy',
      'unhealthy',
      'unhealthy',
      'healthy',
    ]);
  });

  it('counts only fresh heartbeats towards rejoining, not sweeps', () => {
    const sweep = beat(0.9, { fresh: false, heartbeatAgeMs: 1_000 });
    const { states } = run([
      beat(0.9),
      beat(0.2),
      sweep,
      sweep,
      sweep,
      sweep,
      beat(0.9),
      beat(0.9),
    ]);
    expect(states.at(-1)).toBe('unhealthy');
  });

  it('marks a silent node offline after three intervals and has it earn its way back', () => {
    const silent = (intervals: number) =>
      beat(0, { fresh: false, heartbeatAgeMs: intervals * INTERVAL });
    const { states } = run([beat(0.9), silent(2.5), silent(3), beat(0.9), beat(0.9), beat(0.9)]);
    expect(states).toEqual([
      'healthy',
      'unhealthy',
      'offline',
      'unhealthy',
      'unhealthy',
      'healthy',
    ]);
  });

  it("drains on the operator's word, and is offline rather than draining when silent", () => {
    const { states, state } = run([beat(0.9), beat(0.9, { draining: true })]);
    expect(states).toEqual(['healthy', 'draining']);
    expect(state.health).toBe('healthy');
    expect(isRoutable(state)).toBe(false);
    const silent = nextNodeState(
      state,
      beat(0, { draining: true, fresh: false, heartbeatAgeMs: 4 * INTERVAL }),
    );
    expect(silent.state).toBe('offline');
    // undrained and healthy all along: straight back
    expect(nextNodeState(state, beat(0.9)).state).toBe('healthy');
  });

  it('keeps a cordoned node in routing but out of placement', () => {
    const { state } = run([beat(0.9, { cordoned: true })]);
    expect(isRoutable(state)).toBe(true);
    expect(isPlaceable(state)).toBe(false);
    expect(isPlaceable(nextNodeState(state, beat(0.9)))).toBe(true);
  });

  it('never routes to a node whose last observation scored under 0.5', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            score: fc.double({ min: 0, max: 1, noNaN: true }),
            age: fc.double({ min: 0, max: 4, noNaN: true }),
            fresh: fc.boolean(),
            draining: fc.boolean(),
          }),
          { maxLength: 40 },
        ),
        (obs) => {
          let state = initialNodeHealthState();
          for (const o of obs) {
            state = nextNodeState(
              state,
              beat(o.score, {
                heartbeatAgeMs: o.age * INTERVAL,
                fresh: o.fresh,
                draining: o.draining,
              }),
            );
            if (o.score < 0.5 || o.age >= 3 || o.draining) expect(isRoutable(state)).toBe(false);
          }
        },
      ),
    );
  });

  it('is routable only in the healthy and degraded states', () => {
    expect(
      ['healthy', 'degraded', 'unhealthy', 'draining', 'offline'].map((s) =>
        isRoutable(s as never),
      ),
    ).toEqual([true, true, false, false, false]);
  });
});
