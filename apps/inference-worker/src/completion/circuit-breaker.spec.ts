import { CircuitBreaker, CircuitBreakers, type CircuitBreakerOptions } from './circuit-breaker';

const options: CircuitBreakerOptions = {
  windowMs: 10_000,
  minimumCalls: 4,
  failureRateThreshold: 0.5,
  coolDownMs: 5_000,
  halfOpenCalls: 1,
};

function breakerWithClock(overrides: Partial<CircuitBreakerOptions> = {}) {
  let now = 1_000_000;
  const changes: string[] = [];
  const breaker = new CircuitBreaker(
    { ...options, ...overrides },
    () => now,
    (from, to) => changes.push(`${from}>${to}`),
  );
  return { breaker, changes, advance: (ms: number) => (now += ms) };
}

/** A call as a caller makes it: asks first, then reports. */
function call(breaker: CircuitBreaker, ok: boolean): boolean {
  if (!breaker.tryAcquire()) return false;
  if (ok) breaker.success();
  else breaker.failure();
  return true;
}

describe(CircuitBreaker.name, () => {
  it('stays closed while fewer calls than the minimum failed, however many of them', () => {
    const { breaker } = breakerWithClock();
    for (let i = 0; i < 3; i++) call(breaker, false);
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('opens once the failure rate over the window reaches the threshold, and refuses calls', () => {
    const { breaker, changes } = breakerWithClock();
    call(breaker, true);
    call(breaker, true);
    call(breaker, false);
    expect(breaker.state).toBe('closed');
    call(breaker, false); // 2 of 4 failed: 50 %
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
    expect(changes).toEqual(['closed>open']);
  });

  it('stays closed below the threshold', () => {
    const { breaker } = breakerWithClock();
    for (let i = 0; i < 7; i++) call(breaker, true);
    for (let i = 0; i < 6; i++) call(breaker, false); // 6 of 13
    expect(breaker.state).toBe('closed');
    call(breaker, false); // 7 of 14
    expect(breaker.state).toBe('open');
  });

  it('forgets outcomes that left the rolling window', () => {
    const { breaker, advance } = breakerWithClock();
    call(breaker, false);
    call(breaker, false);
    call(breaker, false);
    advance(11_000);
    expect(breaker.window).toEqual({ calls: 0, failures: 0 });
    call(breaker, false); // one failure in the window now: under the minimum
    expect(breaker.state).toBe('closed');
    for (let i = 0; i < 3; i++) call(breaker, true);
    expect(breaker.window).toEqual({ calls: 4, failures: 1 });
    expect(breaker.state).toBe('closed');
  });

  it('lets one trial call through after the cool-down, and closes when it succeeds', () => {
    const { breaker, changes, advance } = breakerWithClock();
    for (let i = 0; i < 4; i++) call(breaker, false);
    advance(4_999);
    expect(breaker.state).toBe('open');
    advance(1);
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false); // only one trial at a time
    breaker.success();
    expect(breaker.state).toBe('closed');
    expect(breaker.window).toEqual({ calls: 0, failures: 0 });
    expect(changes).toEqual(['closed>open', 'open>half-open', 'half-open>closed']);
  });

  it('opens again for a full cool-down when the trial call fails', () => {
    const { breaker, advance } = breakerWithClock();
    for (let i = 0; i < 4; i++) call(breaker, false);
    advance(5_000);
    expect(call(breaker, false)).toBe(true);
    expect(breaker.state).toBe('open');
    advance(4_000);
    expect(breaker.tryAcquire()).toBe(false);
    advance(1_000);
    expect(breaker.state).toBe('half-open');
  });

  it('frees the trial slot of a call that came to nothing', () => {
    const { breaker, advance } = breakerWithClock();
    for (let i = 0; i < 4; i++) call(breaker, false);
    advance(5_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.release();
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('needs as many trial successes as it lets trials through', () => {
    const { breaker, advance } = breakerWithClock({ halfOpenCalls: 2 });
    for (let i = 0; i < 4; i++) call(breaker, false);
    advance(5_000);
    expect(call(breaker, true)).toBe(true);
    expect(breaker.state).toBe('half-open');
    expect(call(breaker, true)).toBe(true);
    expect(breaker.state).toBe('closed');
  });

  it('refuses options that cannot work', () => {
    expect(() => new CircuitBreaker({ ...options, failureRateThreshold: 0 })).toThrow();
    expect(() => new CircuitBreaker({ ...options, windowMs: 0 })).toThrow();
    expect(() => new CircuitBreaker({ ...options, minimumCalls: 0 })).toThrow();
  });
});

describe(CircuitBreakers.name, () => {
  it('keeps one breaker per endpoint, so one failing endpoint leaves the others closed', () => {
    const changes: string[] = [];
    const breakers = new CircuitBreakers(
      options,
      () => 0,
      (key, from, to) => changes.push(`${key}:${from}>${to}`),
    );
    for (let i = 0; i < 4; i++) call(breakers.for('http://a/v1'), false);
    call(breakers.for('http://b/v1'), true);
    expect(breakers.states()).toEqual({ 'http://a/v1': 'open', 'http://b/v1': 'closed' });
    expect(breakers.for('http://a/v1')).toBe(breakers.for('http://a/v1'));
    expect(changes).toEqual(['http://a/v1:closed>open']);
  });
});
