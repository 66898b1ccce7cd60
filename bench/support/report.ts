/**
 * What the benches print: the header lines, the results table and the ratios between targets.
 * Figures only, never pass/fail.
 */
import os from 'node:os';

/** One measured run: a target driven in one mode. */
export interface Row {
  target: string;
  mode: 'fixed' | 'saturation';
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

export const say = (line: string) => process.stdout.write(`${line}\n`);

export function sayMachine(): void {
  say(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown cpu'}, node ${process.version}, ${os.platform()} ${os.release()}`,
  );
}

export function sayRuns(run: {
  duration: number;
  warmup: number;
  fixedRate: number;
  fixedConnections: number;
  saturationConnections: number;
}): void {
  say(
    `runs: ${run.duration}s each after ${run.warmup}s warm-up; fixed = ${run.fixedRate} req/s over ${run.fixedConnections} connections, saturation = ${run.saturationConnections} connections`,
  );
}

export function printTable(rows: Row[]): void {
  const header = ['target', 'mode', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'];
  const lines = rows.map((r) => [
    r.target,
    r.mode,
    r.rps.toFixed(0),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    String(r.non2xx),
    String(r.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  say(fmt(header));
  say(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) say(fmt(l));
  say('');
}

/**
 * For each `[a, b]`, a/b of saturation throughput, of p99 at the fixed rate and of p99 at
 * saturation, labels padded so the figures line up.
 */
export function printRatios(rows: Row[], pairs: [a: string, b: string][]): void {
  const find = (target: string, mode: Row['mode']) => {
    const row = rows.find((r) => r.target === target && r.mode === mode);
    if (!row) throw new Error(`no ${mode} run of ${target}`);
    return row;
  };
  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');
  const lines = pairs.flatMap(([a, b]): [label: string, value: string][] => [
    [
      `${a}/${b} saturation throughput:`,
      ratio(find(a, 'saturation').rps, find(b, 'saturation').rps),
    ],
    [`${a}/${b} p99 at fixed rate:`, ratio(find(a, 'fixed').p99, find(b, 'fixed').p99)],
    [`${a}/${b} p99 at saturation:`, ratio(find(a, 'saturation').p99, find(b, 'saturation').p99)],
  ]);
  const width = Math.max(...lines.map(([label]) => label.length));
  for (const [label, value] of lines) say(`${label.padEnd(width)} ${value}`);
}
