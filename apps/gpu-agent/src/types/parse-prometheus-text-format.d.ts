/** The package ships no types: its output, prom2json's shape. */
declare module 'parse-prometheus-text-format' {
  interface Sample {
    value?: string;
    labels?: Record<string, string>;
    timestamp_ms?: string;
    buckets?: Record<string, string>;
    quantiles?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  interface MetricFamily {
    name: string;
    help: string;
    /** GAUGE, COUNTER, HISTOGRAM, SUMMARY or UNTYPED. */
    type: string;
    metrics: Sample[];
  }
  /** Throws on a line that is not Prometheus text format. */
  function parsePrometheusTextFormat(text: string): MetricFamily[];
  export = parsePrometheusTextFormat;
}
