/** One place of an item in a fused result: its score and where each ranking put it (1-based). */
export interface FusedItem<Id> {
  id: Id;
  score: number;
  /** For each input ranking, the item's 1-based rank there, or null if it was not in it. */
  ranks: (number | null)[];
}

/** The `k` of Cormack, Clarke and Büttcher (SIGIR 2009): large enough that no one list dominates. */
export const RRF_K = 60;

/**
 * Reciprocal rank fusion: each item scores Σ weight / (k + rank) over the rankings it appears
 * in. Rankings are lists of ids, best first; an id repeated within one ranking counts at its
 * best place. Ties are broken by the best rank in any list, then by first appearance, so the
 * result is deterministic.
 */
export function reciprocalRankFusion<Id>(
  rankings: readonly (readonly Id[])[],
  { k = RRF_K, weights }: { k?: number; weights?: readonly number[] } = {},
): FusedItem<Id>[] {
  if (!(k >= 0) || !Number.isFinite(k)) throw new RangeError('k must be a finite number >= 0');
  if (weights && weights.length !== rankings.length) throw new RangeError('one weight per ranking');
  const fused = new Map<Id, FusedItem<Id> & { first: number; best: number }>();
  let order = 0;
  rankings.forEach((ranking, list) => {
    const weight = weights ? weights[list]! : 1;
    ranking.forEach((id, index) => {
      const rank = index + 1;
      let item = fused.get(id);
      if (!item) {
        item = {
          id,
          score: 0,
          ranks: rankings.map(() => null),
          first: order++,
          best: rank,
        };
        fused.set(id, item);
      }
      if (item.ranks[list] !== null) return;
      item.ranks[list] = rank;
      item.score += weight / (k + rank);
      item.best = Math.min(item.best, rank);
    });
  });
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || a.best - b.best || a.first - b.first)
    .map(({ id, score, ranks }) => ({ id, score, ranks }));
}
