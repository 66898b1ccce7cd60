import { PriorityQueue } from '@datastructures-js/priority-queue';

interface Slot {
  key: string;
  dueAt: number;
  /** Which scheduling of the key this is; an older one left in the heap is skipped. */
  seq: number;
}

/**
 * When each policy is next due, in one heap: the controller sleeps until the earliest and
 * takes what is due, so the work of a moment is the policies due then, never a pass over all.
 * One time per key: scheduling a key again replaces its time.
 */
export class DueQueue {
  private readonly heap = new PriorityQueue<Slot>((a, b) => a.dueAt - b.dueAt || a.seq - b.seq);
  private readonly current = new Map<string, Slot>();
  private seq = 0;

  /** Sets when `key` is due (replacing any time it had). */
  schedule(key: string, dueAt: number): void {
    const slot = { key, dueAt, seq: ++this.seq };
    this.current.set(key, slot);
    this.heap.enqueue(slot);
    // replaced slots stay in the heap until they surface; rebuild when they outnumber the live
    if (this.heap.size() > 2 * this.current.size + 64) this.compact();
  }

  /** Removes `key`; it is due no more. */
  remove(key: string): void {
    this.current.delete(key);
  }

  clear(): void {
    this.current.clear();
    this.heap.clear();
  }

  has(key: string): boolean {
    return this.current.has(key);
  }

  /** When `key` is due, if it is scheduled. */
  dueAt(key: string): number | undefined {
    return this.current.get(key)?.dueAt;
  }

  /** The earliest time anything is due, if anything is. */
  next(): number | undefined {
    this.dropStale();
    return this.heap.front()?.dueAt;
  }

  /** Takes every key due at or before `now`, earliest first, with the time it was due. */
  takeDue(now: number): { key: string; dueAt: number }[] {
    const due: { key: string; dueAt: number }[] = [];
    for (;;) {
      this.dropStale();
      const head = this.heap.front();
      if (!head || head.dueAt > now) return due;
      this.heap.dequeue();
      this.current.delete(head.key);
      due.push({ key: head.key, dueAt: head.dueAt });
    }
  }

  get size(): number {
    return this.current.size;
  }

  private dropStale(): void {
    for (let head = this.heap.front(); head && this.current.get(head.key) !== head;) {
      this.heap.dequeue();
      head = this.heap.front();
    }
  }

  private compact(): void {
    this.heap.clear();
    for (const slot of this.current.values()) this.heap.enqueue(slot);
  }
}

/**
 * Phases are whole steps of this: policies whose phases share a step come due together, so
 * the controller wakes at most once per step and their reads leave in one write.
 */
export const PHASE_STEP_MS = 50;

/** Where in its interval a policy is due, spread evenly over policies by their key (FNV-1a). */
export function phaseOf(key: string, intervalMs: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  const steps = Math.max(1, Math.floor(intervalMs / PHASE_STEP_MS));
  return (hash % steps) * PHASE_STEP_MS;
}

/**
 * When a policy is next due after being due at `dueAt`: the first moment of its phase at
 * least half an interval later. A policy that keeps its phase is due every `intervalMs`
 * exactly; one reconciled off its phase (when created, changed or retried) returns to it.
 * Policies of the same interval so come due spread over the interval instead of all at once.
 */
export function nextDue(dueAt: number, intervalMs: number, phaseMs: number): number {
  const earliest = dueAt + intervalMs / 2;
  const offset = (((earliest - phaseMs) % intervalMs) + intervalMs) % intervalMs;
  return offset === 0 ? earliest : earliest + intervalMs - offset;
}
