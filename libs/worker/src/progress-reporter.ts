import type { JobProgress } from '@lattice/contracts';

/**
 * A job's progress on its way to the scheduler, so a handler may report from a hot loop: at
 * most one report in flight, the newest waiting behind it replacing any older one, and none
 * sent sooner than `intervalMs` after the one before. `flush()` sends what waits before the job
 * is reported ended; `close()` drops it when the job is no longer the worker's.
 */
export class ProgressReporter {
  private waiting?: JobProgress;
  private inFlight?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly send: (progress: JobProgress) => Promise<unknown>,
    private readonly options: {
      intervalMs: number;
      onError: (error: unknown) => void;
      now?: () => number;
    },
  ) {}

  report(progress: JobProgress): void {
    if (this.closed) return;
    this.waiting = progress;
    this.pump();
  }

  /** Sends what waits now, whatever the interval, then takes no more reports. */
  async flush(): Promise<void> {
    this.stopTaking();
    await this.inFlight;
    const last = this.waiting;
    this.waiting = undefined;
    if (last) await this.deliver(last);
  }

  /** Drops what waits and takes no more reports. */
  close(): void {
    this.stopTaking();
    this.waiting = undefined;
  }

  private stopTaking(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private pump(): void {
    if (this.closed || this.inFlight || this.timer || !this.waiting) return;
    const now = (this.options.now ?? Date.now)();
    const wait = this.lastSentAt + this.options.intervalMs - now;
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, wait);
      this.timer.unref();
      return;
    }
    const progress = this.waiting;
    this.waiting = undefined;
    this.lastSentAt = now;
    this.inFlight = this.deliver(progress).finally(() => {
      this.inFlight = undefined;
      this.pump();
    });
  }

  private async deliver(progress: JobProgress): Promise<void> {
    try {
      await this.send(progress);
    } catch (error) {
      this.options.onError(error);
    }
  }
}
