import {
  defaultBehavior,
  emptyHistory,
  normalizeWithBehavior,
  recordScaleEvent,
  resolveBehavior,
  scaleDownLimit,
  scaleUpLimit,
  type Behavior,
  type ScalingHistory,
} from './behavior';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const s = (seconds: number) => T0 + seconds * 1000;

/** Runs normalisation and applies its result the way the controller does. */
function step(
  behavior: Behavior,
  history: ScalingHistory,
  current: number,
  proposed: number,
  at: number,
  min = 1,
  max = 1000,
) {
  const result = normalizeWithBehavior({
    current,
    proposed,
    minReplicas: min,
    maxReplicas: max,
    behavior,
    history,
    now: at,
  });
  recordScaleEvent(history, behavior, current, result.replicas, at);
  return result;
}

describe('scale-up and scale-down limits', () => {
  it('defaults to HPA v2: up by 4 pods or 100 % per 15 s, whichever is more', () => {
    const rules = defaultBehavior().scaleUp;
    expect(scaleUpLimit(1, emptyHistory(), rules, T0)).toBe(5);
    expect(scaleUpLimit(10, emptyHistory(), rules, T0)).toBe(20);
  });

  it('Percent 900 per minute grows tenfold each period (documented example)', () => {
    const behavior = resolveBehavior({
      scaleUp: { policies: [{ type: 'Percent', value: 900, periodSeconds: 60 }] },
    });
    const history = emptyHistory();
    let current = 1;
    const sizes = [];
    for (let period = 0; period < 3; period++) {
      current = step(behavior, history, current, 5000, s(period * 61), 1, 5000).replicas;
      sizes.push(current);
    }
    expect(sizes).toEqual([10, 100, 1000]);
  });

  it('removes 10 % or 4 pods per minute, whichever is more, from 80 down to 10 (documented example)', () => {
    const behavior = resolveBehavior({
      scaleDown: {
        stabilizationWindowSeconds: 0,
        policies: [
          { type: 'Pods', value: 4, periodSeconds: 60 },
          { type: 'Percent', value: 10, periodSeconds: 60 },
        ],
      },
    });
    const history = emptyHistory();
    let current = 80;
    const sizes = [];
    for (let period = 0; current > 10; period++) {
      current = step(behavior, history, current, 10, s(period * 60 + 1)).replicas;
      sizes.push(current);
    }
    expect(sizes).toEqual([72, 64, 57, 51, 45, 40, 36, 32, 28, 24, 20, 16, 12, 10]);
  });

  it('selectPolicy Min takes the smaller change', () => {
    const rules = resolveBehavior({
      scaleDown: {
        selectPolicy: 'Min',
        policies: [
          { type: 'Pods', value: 4, periodSeconds: 60 },
          { type: 'Percent', value: 10, periodSeconds: 60 },
        ],
      },
    }).scaleDown;
    expect(scaleDownLimit(80, emptyHistory(), rules, T0)).toBe(76);
  });

  it('selectPolicy Disabled stops scaling in that direction', () => {
    const behavior = resolveBehavior({
      scaleDown: { selectPolicy: 'Disabled', stabilizationWindowSeconds: 0 },
    });
    const result = step(behavior, emptyHistory(), 10, 2, T0);
    expect(result.replicas).toBe(10);
    expect(result.conditions).toContainEqual(
      expect.objectContaining({ type: 'ScalingLimited', status: 'True', reason: 'ScaleDownLimit' }),
    );
  });

  it('counts scale events inside the period against the policy, and forgets them after it', () => {
    const behavior = resolveBehavior({
      scaleUp: { policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] },
    });
    const history = emptyHistory();
    expect(step(behavior, history, 3, 10, s(0)).replicas).toBe(5);
    // 30 s later the 2 pods added already use the period's allowance
    expect(step(behavior, history, 5, 10, s(30)).replicas).toBe(5);
    expect(step(behavior, history, 5, 10, s(61)).replicas).toBe(7);
  });

  it('a scale-down inside the period gives back scale-up room', () => {
    const rules = resolveBehavior({
      scaleUp: { policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] },
    }).scaleUp;
    const history: ScalingHistory = {
      recommendations: [],
      scaleUpEvents: [],
      scaleDownEvents: [{ change: 3, at: s(-10) }],
    };
    // the period started at 5 + 3 = 8 replicas, so up to 10 now
    expect(scaleUpLimit(5, history, rules, T0)).toBe(10);
  });
});

describe('stabilisation windows', () => {
  it('scale-down takes the highest recommendation of the last 300 s', () => {
    const behavior = defaultBehavior();
    const history = emptyHistory();
    expect(step(behavior, history, 10, 10, s(0)).replicas).toBe(10);
    const stabilized = step(behavior, history, 10, 4, s(60));
    expect(stabilized.replicas).toBe(10);
    expect(stabilized.conditions).toContainEqual(
      expect.objectContaining({ type: 'AbleToScale', reason: 'ScaleDownStabilized' }),
    );
    expect(step(behavior, history, 10, 6, s(200)).replicas).toBe(10);
    // the 10 left the window; 6 (at 200 s) is now the highest
    expect(step(behavior, history, 10, 4, s(301)).replicas).toBe(6);
    expect(step(behavior, history, 6, 4, s(501)).replicas).toBe(4);
  });

  it('scale-up with a window takes the lowest recommendation inside it', () => {
    const behavior = resolveBehavior({ scaleUp: { stabilizationWindowSeconds: 60 } });
    const history = emptyHistory();
    step(behavior, history, 2, 2, s(0));
    const first = step(behavior, history, 2, 8, s(10));
    expect(first.replicas).toBe(2);
    expect(first.conditions).toContainEqual(
      expect.objectContaining({ reason: 'ScaleUpStabilized' }),
    );
    expect(step(behavior, history, 2, 8, s(61)).replicas).toBe(6); // 4 pods per 15 s
  });

  it('clamps to max and min with the HPA reasons', () => {
    const up = step(defaultBehavior(), emptyHistory(), 3, 50, T0, 1, 6);
    expect(up.replicas).toBe(6);
    expect(up.conditions).toContainEqual(
      expect.objectContaining({
        type: 'ScalingLimited',
        status: 'True',
        reason: 'TooManyReplicas',
      }),
    );
    const down = step(
      resolveBehavior({ scaleDown: { stabilizationWindowSeconds: 0 } }),
      emptyHistory(),
      5,
      0,
      T0,
      2,
      6,
    );
    expect(down.replicas).toBe(2);
    expect(down.conditions).toContainEqual(expect.objectContaining({ reason: 'TooFewReplicas' }));
  });

  it('reports a scale-up limited by the rate', () => {
    const result = step(defaultBehavior(), emptyHistory(), 2, 50, T0, 1, 100);
    expect(result.replicas).toBe(6);
    expect(result.conditions).toContainEqual(
      expect.objectContaining({ type: 'ScalingLimited', status: 'True', reason: 'ScaleUpLimit' }),
    );
  });
});
