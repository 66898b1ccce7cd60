/**
 * `npm run bench:rag-screening`: the RAG question screening and PII redaction against the
 * labelled sets in bench/data/rag (their README says where each comes from). Prints, per split
 * (dev: what the patterns were tuned on; held-out: not looked at while tuning) and per
 * category, the detection rate on known injection prompts and the false-positive rate on
 * ordinary questions; per PII type, redaction recall and precision; and the time of one
 * screening and of redaction on ordinary and adversarial text (medians with spread, figures
 * only, never pass/fail). BENCH_RAG_VERBOSE=1 lists every miss and false positive.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildPrompt } from '../apps/rag/src/answering/prompt-builder';
import { findPii, type PiiType } from '../apps/rag/src/redaction/pii-redaction';
import { checkModelOutput } from '../apps/rag/src/screening/output-check';
import { screenQuestion } from '../apps/rag/src/screening/question-screening';
import { say, sayMachine } from './support/report';

type Split = 'dev' | 'heldout';
interface Item {
  id: string;
  text: string;
  category: string;
  source: string;
  split: Split;
}
interface PiiItem {
  id: string;
  text: string;
  entities: Array<{ type: PiiType; value: string }>;
  split: Split;
}

const VERBOSE = process.env.BENCH_RAG_VERBOSE === '1';

function dataDir(): string {
  // the bench runs from dist/bench after the build, or from bench/ under a TypeScript runner
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'bench', 'data', 'rag');
    if (existsSync(path.join(candidate, 'injection-prompts.json'))) return candidate;
  }
  throw new Error('bench/data/rag not found above ' + __dirname);
}

function load<T>(file: string): T[] {
  return (JSON.parse(readFileSync(path.join(dataDir(), file), 'utf8')) as { items: T[] }).items;
}

interface OutputItem {
  id: string;
  output: string;
  label: 'allow' | 'refuse';
  category: string;
  split: Split;
}

function outputs(): void {
  say(
    '== output check: answers that show an injection worked (refused) and grounded answers (allowed)',
  );
  const file = JSON.parse(readFileSync(path.join(dataDir(), 'model-outputs.json'), 'utf8')) as {
    context: string[];
    items: OutputItem[];
  };
  const canary = 'cnry_5d1e8a7c2b94f036';
  const systemPrompt = buildPrompt({ question: 'q', passages: [], canary })[0].content;
  const fill = (o: string) =>
    o
      .replace('{canary}', canary)
      .replace('{canary_spaced}', canary.split('').join(' '))
      .replace('{system_excerpt}', systemPrompt.split('\n')[1]);
  const rows: string[][] = [];
  const wrong: string[] = [];
  for (const split of ['dev', 'heldout'] as const) {
    for (const [category, items] of byCategory(file.items.filter((i) => i.split === split))) {
      const refused = items.filter((i) => {
        const verdict = checkModelOutput(fill(i.output), {
          canary,
          systemPrompt,
          context: file.context,
        }).verdict;
        if (verdict !== i.label) wrong.push(`${i.id}(${split}, ${i.label} expected)`);
        return verdict === 'refuse';
      }).length;
      rows.push([
        `${split} ${items[0].label} ${category}`,
        String(items.length),
        String(refused),
        pct(refused, items.length),
      ]);
    }
  }
  table(['set', 'n', 'refused', 'rate'], rows);
  say(`wrong verdicts: ${wrong.join(' ') || 'none'}`);
  say('');
}

const pct = (n: number, d: number) =>
  d === 0 ? '   -  ' : `${((100 * n) / d).toFixed(1).padStart(5)}%`;

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  say(fmt(header));
  say(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) say(fmt(r));
  say('');
}

function byCategory<T extends { category: string }>(items: T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) map.set(item.category, [...(map.get(item.category) ?? []), item]);
  return new Map([...map.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

function screening(attacks: Item[], ordinary: Item[]): void {
  say(
    '== screening: injection prompts refused (detection) and ordinary questions refused (false positives)',
  );
  const rows: string[][] = [];
  for (const split of ['dev', 'heldout'] as const) {
    const a = attacks.filter((i) => i.split === split);
    for (const [category, items] of byCategory(a)) {
      const refused = items.filter((i) => screenQuestion(i.text).verdict === 'refuse').length;
      rows.push([
        `${split} injection ${category}`,
        String(items.length),
        String(refused),
        pct(refused, items.length),
      ]);
    }
    const refused = a.filter((i) => screenQuestion(i.text).verdict === 'refuse').length;
    rows.push([
      `${split} injection ALL (detection rate)`,
      String(a.length),
      String(refused),
      pct(refused, a.length),
    ]);
    const o = ordinary.filter((i) => i.split === split);
    for (const [category, items] of byCategory(o)) {
      const fp = items.filter((i) => screenQuestion(i.text).verdict === 'refuse').length;
      rows.push([
        `${split} ordinary ${category}`,
        String(items.length),
        String(fp),
        pct(fp, items.length),
      ]);
    }
    const fp = o.filter((i) => screenQuestion(i.text).verdict === 'refuse').length;
    rows.push([
      `${split} ordinary ALL (false-positive rate)`,
      String(o.length),
      String(fp),
      pct(fp, o.length),
    ]);
  }
  table(['set', 'n', 'refused', 'rate'], rows);
  const misses = attacks.filter((i) => screenQuestion(i.text).verdict === 'allow');
  const falsePositives = ordinary.filter((i) => screenQuestion(i.text).verdict === 'refuse');
  say(`missed injections: ${misses.map((i) => `${i.id}(${i.split})`).join(' ') || 'none'}`);
  say(`false positives: ${falsePositives.map((i) => `${i.id}(${i.split})`).join(' ') || 'none'}`);
  if (VERBOSE) {
    for (const i of misses)
      say(
        `  miss ${i.id} ${JSON.stringify(i.text.slice(0, 120))} ${JSON.stringify(screenQuestion(i.text))}`,
      );
    for (const i of falsePositives)
      say(
        `  fp   ${i.id} ${JSON.stringify(i.text)} ${JSON.stringify(screenQuestion(i.text).reasons)}`,
      );
  }
  say('');
}

function redaction(items: PiiItem[]): void {
  say(
    '== redaction: recall (labelled PII found with its exact span and type) and precision (findings that are labelled PII)',
  );
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const split of ['dev', 'heldout', 'all'] as const) {
    const chosen = items.filter((i) => split === 'all' || i.split === split);
    const perType = new Map<
      string,
      { labelled: number; found: number; predicted: number; correct: number }
    >();
    const stat = (t: string) => {
      if (!perType.has(t)) perType.set(t, { labelled: 0, found: 0, predicted: 0, correct: 0 });
      return perType.get(t)!;
    };
    for (const item of chosen) {
      const findings = findPii(item.text);
      const labelled = item.entities.map((e) => {
        const start = item.text.indexOf(e.value);
        return { type: e.type, start, end: start + e.value.length };
      });
      for (const l of labelled) {
        stat(l.type).labelled++;
        if (findings.some((f) => f.type === l.type && f.start === l.start && f.end === l.end))
          stat(l.type).found++;
        else if (split === 'all')
          notes.push(
            `  missed ${item.id} ${l.type} ${JSON.stringify(item.text.slice(l.start, l.end))}`,
          );
      }
      for (const f of findings) {
        stat(f.type).predicted++;
        if (labelled.some((l) => f.type === l.type && f.start === l.start && f.end === l.end))
          stat(f.type).correct++;
        else if (split === 'all')
          notes.push(
            `  wrong  ${item.id} ${f.type} ${JSON.stringify(item.text.slice(f.start, f.end))}`,
          );
      }
    }
    let L = 0,
      F = 0,
      P = 0,
      C = 0;
    for (const [type, s] of [...perType.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      rows.push([
        `${split} ${type}`,
        String(s.labelled),
        pct(s.found, s.labelled),
        pct(s.correct, s.predicted),
      ]);
      L += s.labelled;
      F += s.found;
      P += s.predicted;
      C += s.correct;
    }
    rows.push([`${split} ALL`, String(L), pct(F, L), pct(C, P)]);
  }
  table(['set', 'labelled', 'recall', 'precision'], rows);
  for (const n of notes) say(n);
  if (notes.length) say('');
}

function median(xs: number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
}

function timing(attacks: Item[], ordinary: Item[], pii: PiiItem[]): void {
  say('== time (median of 7 runs, [min..max])');
  const questions = [...attacks, ...ordinary].map((i) => i.text);
  const screenRuns: number[] = [];
  for (let run = 0; run < 7; run++) {
    const t0 = process.hrtime.bigint();
    for (const q of questions) screenQuestion(q);
    screenRuns.push(Number(process.hrtime.bigint() - t0) / 1e3 / questions.length);
  }
  const s = median(screenRuns);
  say(
    `screenQuestion: ${s.median.toFixed(1)} µs per question [${s.min.toFixed(1)}..${s.max.toFixed(1)}] over ${questions.length} questions`,
  );

  const ordinaryText = pii
    .map((i) => i.text)
    .join('\n')
    .repeat(200);
  const adversarial: Array<[string, string]> = [
    ['ordinary text with PII', ordinaryText],
    ['e-mail local parts', 'a.'.repeat(500_000) + '@'],
    ['digit groups', '1 '.repeat(500_000) + 'x'],
    ['hex and colons', 'a:'.repeat(500_000) + 'g'],
    ['dotted quads', '1.'.repeat(500_000)],
  ];
  for (const [name, text] of adversarial) {
    const runs: number[] = [];
    for (let run = 0; run < 7; run++) {
      const t0 = process.hrtime.bigint();
      findPii(text);
      runs.push(text.length / 1e6 / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
    const r = median(runs);
    say(
      `redaction, ${name} (${(text.length / 1e6).toFixed(1)} M chars): ${r.median.toFixed(1)} M chars/s [${r.min.toFixed(1)}..${r.max.toFixed(1)}]`,
    );
  }
  say('');
}

function main(): void {
  sayMachine();
  const attacks = load<Item>('injection-prompts.json');
  const ordinary = load<Item>('ordinary-questions.json');
  const pii = load<PiiItem>('pii-labelled.json');
  say(
    `sets: ${attacks.length} injection prompts, ${ordinary.length} ordinary questions, ${pii.length} PII texts (bench/data/rag)`,
  );
  say('');
  screening(attacks, ordinary);
  outputs();
  redaction(pii);
  timing(attacks, ordinary, pii);
}

main();
