/** A CPU quantity ("250m", "1", "0.5", "123456789n") in millicores. */
export function cpuMilli(quantity: string): number {
  const match = /^([0-9.]+)(n|u|m|k|M|G)?$/.exec(quantity.trim());
  if (!match) throw new Error(`unreadable CPU quantity ${JSON.stringify(quantity)}`);
  const value = Number(match[1]);
  const scale: Record<string, number> = {
    n: 1e-6,
    u: 1e-3,
    m: 1,
    '': 1000,
    k: 1e6,
    M: 1e9,
    G: 1e12,
  };
  return value * scale[match[2] ?? ''];
}

/** A Go duration as metrics.k8s.io writes windows ("30s", "1m0s", "1.5s") in milliseconds. */
export function durationMs(duration: string): number {
  let total = 0;
  const re = /([0-9.]+)(h|ms|m|s)/g;
  let match: RegExpExecArray | null;
  let matched = '';
  while ((match = re.exec(duration))) {
    const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
    total += Number(match[1]) * unit[match[2]];
    matched += match[0];
  }
  if (matched !== duration) throw new Error(`unreadable duration ${JSON.stringify(duration)}`);
  return total;
}
