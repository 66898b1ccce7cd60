import fc from 'fast-check';
import { routingWeight, SmoothWeightedRoundRobin } from './routing';

const picks = (rr: SmoothWeightedRoundRobin, n: number, excluding?: Set<string>) =>
  Array.from({ length: n }, () => rr.next(excluding));

describe(SmoothWeightedRoundRobin.name, () => {
  it('spreads weights 5, 1, 1 as nginx does: a a b a c a a', () => {
    const rr = new SmoothWeightedRoundRobin([
      { nodeId: 'a', weight: 5 },
      { nodeId: 'b', weight: 1 },
      { nodeId: 'c', weight: 1 },
    ]);
    expect(picks(rr, 7)).toEqual(['a', 'a', 'b', 'a', 'c', 'a', 'a']);
    expect(picks(rr, 7)).toEqual(['a', 'a', 'b', 'a', 'c', 'a', 'a']);
  });

  it('gives a failed call the next node, never one it has tried', () => {
    const rr = new SmoothWeightedRoundRobin([
      { nodeId: 'a', weight: 5 },
      { nodeId: 'b', weight: 1 },
      { nodeId: 'c', weight: 1 },
    ]);
    const first = rr.next();
    expect(first).toBe('a');
    const second = rr.next(new Set([first!]));
    expect(second).not.toBe('a');
    expect(rr.next(new Set(['a', 'b', 'c']))).toBeUndefined();
    // excluded nodes keep their turn: across many calls a still takes its share
    const counts = new Map<string, number>();
    for (const node of picks(rr, 700)) counts.set(node!, (counts.get(node!) ?? 0) + 1);
    expect(counts.get('a')).toBeGreaterThan(450);
  });

  it('routes nowhere without a candidate that weighs anything', () => {
    expect(new SmoothWeightedRoundRobin([]).next()).toBeUndefined();
    expect(new SmoothWeightedRoundRobin([{ nodeId: 'a', weight: 0 }]).next()).toBeUndefined();
    const rr = new SmoothWeightedRoundRobin([
      { nodeId: 'a', weight: 0 },
      { nodeId: 'b', weight: Number.NaN },
      { nodeId: 'c', weight: 2 },
    ]);
    expect(picks(rr, 4)).toEqual(['c', 'c', 'c', 'c']);
  });

  it('keeps the rotation when weights are refreshed and forgets a node that left', () => {
    const rr = new SmoothWeightedRoundRobin([
      { nodeId: 'a', weight: 1 },
      { nodeId: 'b', weight: 1 },
    ]);
    expect(rr.next()).toBe('a');
    rr.update([
      { nodeId: 'a', weight: 1 },
      { nodeId: 'b', weight: 1 },
    ]);
    expect(rr.next()).toBe('b');
    rr.update([{ nodeId: 'b', weight: 1 }]);
    expect(picks(rr, 3)).toEqual(['b', 'b', 'b']);
    expect(rr.candidates).toEqual([{ nodeId: 'b', weight: 1 }]);
    expect(() =>
      rr.update([
        { nodeId: 'b', weight: 1 },
        { nodeId: 'b', weight: 2 },
      ]),
    ).toThrow(/twice/);
  });

  it('chooses each node exactly its weight times in every run of sum(weights) picks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 8 }),
        (weights) => {
          const rr = new SmoothWeightedRoundRobin(
            weights.map((weight, i) => ({ nodeId: `n${i}`, weight })),
          );
          const total = weights.reduce((a, b) => a + b, 0);
          for (let round = 0; round < 2; round += 1) {
            const counts = new Map<string, number>();
            for (const node of picks(rr, total)) counts.set(node!, (counts.get(node!) ?? 0) + 1);
            weights.forEach((w, i) => expect(counts.get(`n${i}`)).toBe(w));
          }
        },
      ),
    );
  });

  it('never picks an excluded node', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.subarray(['n0', 'n1', 'n2', 'n3', 'n4', 'n5']), { maxLength: 30 }),
        (weights, exclusions) => {
          const rr = new SmoothWeightedRoundRobin(
            weights.map((weight, i) => ({ nodeId: `n${i}`, weight })),
          );
          for (const excluded of exclusions) {
            const set = new Set(excluded);
            const node = rr.next(set);
            const open = weights.some((w, i) => w > 0 && !set.has(`n${i}`));
            if (open) expect(node !== undefined && !set.has(node)).toBe(true);
            else expect(node).toBeUndefined();
          }
        },
      ),
    );
  });
});

describe('routingWeight', () => {
  it('weighs health fully and free capacity from half to full', () => {
    expect(routingWeight(1, 1)).toBe(100);
    expect(routingWeight(1, 0)).toBe(50);
    expect(routingWeight(0.5, 1)).toBe(50);
    expect(routingWeight(0, 1)).toBe(0);
    expect(routingWeight(Number.NaN, 1)).toBe(0);
    expect(routingWeight(2, 2)).toBe(100);
  });
});
