/**
 * Metric reads shared between policies that read the same source at about the same time: a
 * read-through cache keyed by source (a JetStream consumer, a namespace's pods, a workload's
 * GPUs). A reconcile that asks for a source read or being read at most `windowMs` before it
 * asked, or still under way, gets that read (its value or its failure) instead of starting
 * another, so a thousand
 * policies on one queue cost one consumer info per window, not a thousand. The window is
 * shorter than the shortest polling interval (1 s), so a policy never reuses what its own
 * previous reconcile read.
 */
export class SharedReads {
  private readonly entries = new Map<
    string,
    { startedAt: number; settled: boolean; value: Promise<unknown> }
  >();
  private sweptAt = 0;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The value of `source`: from a read started within the window, else from `read` now. */
  read<T>(source: string, read: () => Promise<T>): Promise<T> {
    const now = this.now();
    this.sweep(now);
    const entry = this.entries.get(source);
    if (entry && (!entry.settled || now - entry.startedAt <= this.windowMs))
      return entry.value as Promise<T>;
    let value: Promise<T>;
    try {
      value = read();
    } catch (error) {
      value = Promise.reject(error as Error);
    }
    const fresh = { startedAt: now, settled: false, value: value as Promise<unknown> };
    // a failure is handed to every reader of the window; none of them may leave it unhandled
    value.then(
      () => (fresh.settled = true),
      () => (fresh.settled = true),
    );
    this.entries.set(source, fresh);
    return value;
  }

  /** Sources held now (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** Drops reads too old to be handed out again, at most once per window. */
  private sweep(now: number): void {
    if (now - this.sweptAt <= this.windowMs) return;
    this.sweptAt = now;
    for (const [source, entry] of this.entries) {
      if (entry.settled && now - entry.startedAt > this.windowMs) this.entries.delete(source);
    }
  }
}
