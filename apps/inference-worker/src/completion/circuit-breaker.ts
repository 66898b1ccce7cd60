/**
 * A circuit breaker for one model-server endpoint. Closed, it lets every call through and
 * counts outcomes over a rolling window; once the window holds at least `minimumCalls` and the
 * share of failures reaches `failureRateThreshold`, it opens and refuses calls for
 * `coolDownMs`. Then it is half-open: `halfOpenCalls` trial calls go through; a failure among
 * them opens it again, and that many successes close it with a fresh window.
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** How far back outcomes count, in milliseconds. */
  windowMs: number;
  /** Outcomes the window must hold before the breaker may open. */
  minimumCalls: number;
  /** The share of failures (0..1] that opens it. */
  failureRateThreshold: number;
  /** How long it stays open before it lets trial calls through. */
  coolDownMs: number;
  /** Trial calls while half-open. */
  halfOpenCalls: number;
}

export const DEFAULT_BREAKER_OPTIONS: CircuitBreakerOptions = {
  windowMs: 30_000,
  minimumCalls: 5,
  failureRateThreshold: 0.5,
  coolDownMs: 15_000,
  halfOpenCalls: 1,
};

/** The window is kept as this many buckets, so old outcomes leave it a bucket at a time. */
const BUCKETS = 10;

interface Bucket {
  start: number;
  successes: number;
  failures: number;
}

export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private buckets: Bucket[] = [];
  private openedAt = 0;
  /** Trial calls let through while half-open and not yet answered. */
  private trialsInFlight = 0;
  private trialSuccesses = 0;

  constructor(
    private readonly options: CircuitBreakerOptions = DEFAULT_BREAKER_OPTIONS,
    private readonly now: () => number = Date.now,
    private readonly onChange?: (from: BreakerState, to: BreakerState) => void,
  ) {
    const { windowMs, minimumCalls, failureRateThreshold, coolDownMs, halfOpenCalls } = options;
    if (!(windowMs > 0 && coolDownMs >= 0 && minimumCalls >= 1 && halfOpenCalls >= 1))
      throw new Error('a breaker needs a window, a cool-down, and at least one call of each');
    if (!(failureRateThreshold > 0 && failureRateThreshold <= 1))
      throw new Error('failureRateThreshold is a share in (0, 1]');
  }

  /** The state now: an open breaker whose cool-down passed reads half-open. */
  get state(): BreakerState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.options.coolDownMs)
      this.move('half-open');
    return this.current;
  }

  /** The failures and calls in the window now. */
  get window(): { calls: number; failures: number } {
    this.prune();
    let calls = 0;
    let failures = 0;
    for (const b of this.buckets) {
      calls += b.successes + b.failures;
      failures += b.failures;
    }
    return { calls, failures };
  }

  /**
   * Whether a call may go now. True takes a trial slot while half-open, so every true must be
   * followed by `success`, `failure` or `release`.
   */
  tryAcquire(): boolean {
    switch (this.state) {
      case 'closed':
        return true;
      case 'open':
        return false;
      case 'half-open':
        if (this.trialsInFlight + this.trialSuccesses >= this.options.halfOpenCalls) return false;
        this.trialsInFlight++;
        return true;
    }
  }

  success(): void {
    if (this.current === 'half-open') {
      this.trialsInFlight = Math.max(0, this.trialsInFlight - 1);
      if (++this.trialSuccesses >= this.options.halfOpenCalls) {
        this.buckets = [];
        this.move('closed');
      }
      return;
    }
    if (this.current === 'closed') this.bucket().successes++;
  }

  failure(): void {
    if (this.current === 'half-open') return this.open();
    if (this.current !== 'closed') return;
    this.bucket().failures++;
    const { calls, failures } = this.window;
    if (calls >= this.options.minimumCalls && failures / calls >= this.options.failureRateThreshold)
      this.open();
  }

  /** A call that went and came to nothing either way (its caller gave up): frees its slot. */
  release(): void {
    if (this.current === 'half-open') this.trialsInFlight = Math.max(0, this.trialsInFlight - 1);
  }

  private open(): void {
    this.openedAt = this.now();
    this.move('open');
  }

  private move(to: BreakerState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    this.trialsInFlight = 0;
    this.trialSuccesses = 0;
    this.onChange?.(from, to);
  }

  private bucket(): Bucket {
    this.prune();
    const width = this.options.windowMs / BUCKETS;
    const start = Math.floor(this.now() / width) * width;
    let last = this.buckets.at(-1);
    if (!last || last.start !== start) {
      last = { start, successes: 0, failures: 0 };
      this.buckets.push(last);
    }
    return last;
  }

  private prune(): void {
    const oldest = this.now() - this.options.windowMs;
    const width = this.options.windowMs / BUCKETS;
    while (this.buckets.length > 0 && this.buckets[0]!.start + width <= oldest)
      this.buckets.shift();
  }
}

/** One breaker per key (an endpoint's URL), made on first use with the same options. */
export class CircuitBreakers {
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(
    private readonly options: CircuitBreakerOptions = DEFAULT_BREAKER_OPTIONS,
    private readonly now: () => number = Date.now,
    private readonly onChange?: (key: string, from: BreakerState, to: BreakerState) => void,
  ) {}

  for(key: string): CircuitBreaker {
    let breaker = this.breakers.get(key);
    if (!breaker) {
      breaker = new CircuitBreaker(this.options, this.now, (from, to) =>
        this.onChange?.(key, from, to),
      );
      this.breakers.set(key, breaker);
    }
    return breaker;
  }

  /** Each breaker's state, by key. */
  states(): Record<string, BreakerState> {
    return Object.fromEntries([...this.breakers].map(([key, b]) => [key, b.state]));
  }
}
