import fc from 'fast-check';
import { RRF_K, reciprocalRankFusion } from './reciprocal-rank-fusion';

describe(reciprocalRankFusion.name, () => {
  it('scores each item by the sum of 1 / (k + rank) over the lists it is in', () => {
    const fused = reciprocalRankFusion([
      ['a', 'b', 'c'],
      ['c', 'a'],
    ]);
    expect(fused.map((f) => f.id)).toEqual(['a', 'c', 'b']);
    expect(fused[0]).toEqual({ id: 'a', score: 1 / 61 + 1 / 62, ranks: [1, 2] });
    expect(fused[1]).toEqual({ id: 'c', score: 1 / 63 + 1 / 61, ranks: [3, 1] });
    expect(fused[2]).toEqual({ id: 'b', score: 1 / 62, ranks: [2, null] });
  });

  it('puts an item both rankings found above one that tops only one of them', () => {
    const fused = reciprocalRankFusion([
      ['only-vector', 'both'],
      ['only-text', 'both'],
    ]);
    expect(fused[0]!.id).toBe('both');
  });

  it('breaks a tie by the best rank, then by first appearance', () => {
    const fused = reciprocalRankFusion([
      ['x', 'y'],
      ['y', 'x'],
    ]);
    expect(fused.map((f) => f.id)).toEqual(['x', 'y']);
  });

  it('counts an id repeated in one list once, at its best place', () => {
    const fused = reciprocalRankFusion([['a', 'a', 'b']]);
    expect(fused).toEqual([
      { id: 'a', score: 1 / (RRF_K + 1), ranks: [1] },
      { id: 'b', score: 1 / (RRF_K + 3), ranks: [3] },
    ]);
  });

  it('weighs a ranking by its weight', () => {
    const fused = reciprocalRankFusion([['a'], ['b']], { weights: [1, 2] });
    expect(fused.map((f) => f.id)).toEqual(['b', 'a']);
    expect(fused[0]!.score).toBeCloseTo(2 / 61, 12);
  });

  it('refuses a negative k and weights that do not match the rankings', () => {
    expect(() => reciprocalRankFusion([['a']], { k: -1 })).toThrow(RangeError);
    expect(() => reciprocalRankFusion([['a']], { weights: [1, 1] })).toThrow(RangeError);
  });

  it('with one ranking keeps its order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { maxLength: 50 }), (ids) => {
        expect(reciprocalRankFusion([ids]).map((f) => f.id)).toEqual(ids);
      }),
    );
  });

  it('holds every id of every ranking once, sorted by score, whatever the rankings', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 30 }), { maxLength: 20 }), {
          maxLength: 4,
        }),
        (rankings) => {
          const fused = reciprocalRankFusion(rankings);
          expect(new Set(fused.map((f) => f.id))).toEqual(new Set(rankings.flat()));
          expect(fused.length).toBe(new Set(rankings.flat()).size);
          for (let i = 1; i < fused.length; i++)
            expect(fused[i - 1]!.score).toBeGreaterThanOrEqual(fused[i]!.score);
          // moving an item up in one ranking never lowers its fused score
          for (const f of fused)
            f.ranks.forEach((rank, list) => {
              if (rank !== null) expect(rankings[list]![rank - 1]).toBe(f.id);
            });
        },
      ),
    );
  });
});
