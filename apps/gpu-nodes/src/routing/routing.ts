/**
 * Routing: which of the healthy nodes serving a model takes the next call. Pure: the GPU-node
 * service keeps one `SmoothWeightedRoundRobin` per model, refreshes its candidates as health
 * and capacity change, and asks it for a node per call.
 *
 * The choice is nginx's smooth weighted round robin (ngx_http_upstream_get_peer): on each pick
 * every candidate's current weight grows by its weight, the largest current weight wins (the
 * first in candidate order on a tie), and the winner's current weight drops by the sum of the
 * weights. Over any run of `sum(weights)` picks each node is chosen exactly `weight` times, and
 * the picks of a heavy node are spread out rather than bunched: 5, 1, 1 gives a a b a c a a.
 *
 * A caller whose call failed asks again excluding the nodes it has tried; those take no part in
 * that pick (neither grow nor count in the sum), as nginx skips the peers it has tried.
 */

export interface RouteCandidate {
  nodeId: string;
  /** Relative share of calls; 0 or less takes none. */
  weight: number;
}

/** The largest weight `routingWeight` gives. */
export const MAX_ROUTING_WEIGHT = 100;

/**
 * A node's weight from its health score (0 to 1) and the share of its VRAM still free (0 to 1):
 * health counts fully, free capacity from half to full, so a healthy but full node still takes
 * calls for the models it already holds. 0 for a score of 0.
 */
export function routingWeight(score: number, freeFraction: number): number {
  const s = Number.isFinite(score) ? Math.min(1, Math.max(0, score)) : 0;
  const f = Number.isFinite(freeFraction) ? Math.min(1, Math.max(0, freeFraction)) : 0;
  return Math.round(MAX_ROUTING_WEIGHT * s * (0.5 + 0.5 * f));
}

interface Peer {
  nodeId: string;
  weight: number;
  current: number;
}

export class SmoothWeightedRoundRobin {
  private peers: Peer[] = [];

  constructor(candidates: readonly RouteCandidate[] = []) {
    this.update(candidates);
  }

  /**
   * Replaces the candidates. A node that stays keeps its current weight, so refreshing weights
   * does not restart the rotation; a new node starts at 0; a node that went is forgotten.
   */
  update(candidates: readonly RouteCandidate[]): void {
    const before = new Map(this.peers.map((p) => [p.nodeId, p.current]));
    const seen = new Set<string>();
    this.peers = [];
    for (const { nodeId, weight } of candidates) {
      if (seen.has(nodeId)) throw new Error(`node ${nodeId} is a candidate twice`);
      seen.add(nodeId);
      this.peers.push({
        nodeId,
        weight: Number.isFinite(weight) && weight > 0 ? weight : 0,
        current: before.get(nodeId) ?? 0,
      });
    }
  }

  get candidates(): RouteCandidate[] {
    return this.peers.map(({ nodeId, weight }) => ({ nodeId, weight }));
  }

  /** The next node, or undefined when every candidate is excluded or weighs nothing. */
  next(excluding?: ReadonlySet<string>): string | undefined {
    let total = 0;
    let best: Peer | undefined;
    for (const peer of this.peers) {
      if (peer.weight <= 0 || excluding?.has(peer.nodeId)) continue;
      peer.current += peer.weight;
      total += peer.weight;
      if (!best || peer.current > best.current) best = peer;
    }
    if (!best) return undefined;
    best.current -= total;
    return best.nodeId;
  }
}
