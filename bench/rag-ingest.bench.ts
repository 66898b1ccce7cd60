/**
 * `npm run bench:rag-ingest`: ingest throughput of the RAG service's pure path, in chunks per
 * second, for parse + chunk + embed with the offline model (Universal Sentence Encoder lite on
 * TensorFlow.js' WebAssembly backend), per document format and per stage.
 *
 * Corpus: the README.md files of the runtime dependencies named in package.json (real-world
 * Markdown: headings, prose, tables, code), under their own licences (MIT, Apache-2.0, ISC) and
 * pinned by package-lock.json, so the corpus is fixed for a given commit: of the 37 that ship one,
 * sorted by package name, every n-th with n = ceil(37 / BENCH_RAG_INGEST_DOCS) (default 12: every
 * fourth, 10 files); BENCH_RAG_INGEST_DOCS=37 takes all. The same documents are also sent as HTML (rendered from the Markdown by marked)
 * and as PDF (their plain text laid out on A4 pages by pdf-lib), so each parser is measured on the
 * same words. Chunks of at most BENCH_RAG_INGEST_MAX_TOKENS (default 300) tokens with
 * BENCH_RAG_INGEST_OVERLAP (default 40) tokens of overlap; BENCH_RAG_INGEST_ROUNDS rounds
 * (default 3), formats interleaved in each round; medians and spread printed. Figures only,
 * never pass/fail.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { marked } from 'marked';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { chunkDocument } from '../apps/rag/src/ingest/chunking';
import { parseDocument, type ParsedDocument } from '../apps/rag/src/ingest/parsing';
import { UniversalSentenceEncoderProvider } from '../apps/rag/src/embeddings';
import { countTokens } from '../apps/rag/src/tokens/tokenizer';
import { say, sayMachine } from './support/report';

const ROUNDS = Number(process.env.BENCH_RAG_INGEST_ROUNDS ?? 3) || 3;
const MAX_TOKENS = Number(process.env.BENCH_RAG_INGEST_MAX_TOKENS ?? 300) || 300;
const OVERLAP = Number(process.env.BENCH_RAG_INGEST_OVERLAP ?? 40) || 40;
const DOCS = Number(process.env.BENCH_RAG_INGEST_DOCS ?? 12) || 12;
const ROOT = path.resolve(__dirname, '..', '..');

interface Doc {
  name: string;
  contentType: string;
  body: Buffer;
}

interface Stages {
  parseMs: number;
  chunkMs: number;
  embedMs: number;
  chunks: number;
  tokens: number;
}

function markdownCorpus(): Doc[] {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  return Object.keys(pkg.dependencies)
    .sort()
    .map((name) => ({ name, file: path.join(ROOT, 'node_modules', name, 'README.md') }))
    .filter(({ file }) => existsSync(file))
    .filter((_, i, all) => DOCS >= all.length || i % Math.ceil(all.length / DOCS) === 0)
    .map(({ name, file }) => ({
      name,
      contentType: 'text/markdown',
      body: readFileSync(file),
    }));
}

async function htmlOf(doc: Doc): Promise<Doc> {
  const html = await marked.parse(doc.body.toString('utf8'));
  return {
    name: doc.name,
    contentType: 'text/html',
    body: Buffer.from(`<html><body>${html}</body></html>`),
  };
}

/** The document's text on A4 pages of Helvetica, 90 characters a line, 60 lines a page. */
async function pdfOf(doc: Doc, parsed: ParsedDocument): Promise<Doc> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  // the standard fonts encode WinAnsi only: other characters are left out of the PDF
  const text = parsed.text.replace(/[^\x20-\x7e\n]/g, '');
  const lines = text.split('\n').flatMap((line) => line.match(/.{1,90}(\s|$)|\S+/g) ?? ['']);
  for (let i = 0; i < lines.length; i += 60) {
    const page = pdf.addPage([595, 842]);
    lines
      .slice(i, i + 60)
      .forEach((line, j) => page.drawText(line, { x: 40, y: 800 - j * 13, font, size: 9 }));
  }
  return { name: doc.name, contentType: 'application/pdf', body: Buffer.from(await pdf.save()) };
}

async function ingest(docs: Doc[], provider: UniversalSentenceEncoderProvider): Promise<Stages> {
  const stages: Stages = { parseMs: 0, chunkMs: 0, embedMs: 0, chunks: 0, tokens: 0 };
  for (const doc of docs) {
    let t = performance.now();
    const parsed = await parseDocument({
      contentType: doc.contentType,
      body: doc.body,
      sourceName: doc.name,
    });
    stages.parseMs += performance.now() - t;
    t = performance.now();
    const chunks = chunkDocument(parsed, {
      maxTokens: MAX_TOKENS,
      overlapTokens: OVERLAP,
      countTokens,
    });
    stages.chunkMs += performance.now() - t;
    t = performance.now();
    const vectors = await provider.embed(chunks.map((c) => c.text));
    stages.embedMs += performance.now() - t;
    if (vectors.length !== chunks.length) throw new Error(`${doc.name}: ${vectors.length} vectors`);
    stages.chunks += chunks.length;
    stages.tokens += chunks.reduce((n, c) => n + c.tokenCount, 0);
  }
  return stages;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const spread = (xs: number[], digits = 1) =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;

async function main(): Promise<void> {
  sayMachine();
  const markdown = markdownCorpus();
  const html = await Promise.all(markdown.map(htmlOf));
  const pdf: Doc[] = [];
  for (const doc of markdown) {
    const parsed = await parseDocument({ ...doc, sourceName: doc.name });
    pdf.push(await pdfOf(doc, parsed));
  }
  const bytes = (docs: Doc[]) =>
    (docs.reduce((n, d) => n + d.body.byteLength, 0) / 1024).toFixed(0);
  say(
    `corpus: ${markdown.length} README.md files of package.json's dependencies (${markdown.map((d) => d.name).join(', ')})`,
  );
  say(
    `sizes: (${bytes(markdown)} KiB Markdown, ${bytes(html)} KiB as HTML, ${bytes(pdf)} KiB as PDF)`,
  );
  say(
    `chunks: at most ${MAX_TOKENS} tokens (cl100k), ${OVERLAP} tokens of overlap; ${ROUNDS} rounds`,
  );

  const provider = new UniversalSentenceEncoderProvider();
  let t = performance.now();
  await provider.load();
  say(
    `offline model: ${provider.model} (${provider.dimension} dimensions), loaded in ${(performance.now() - t).toFixed(0)} ms`,
  );
  t = performance.now();
  await provider.embed(['warm-up sentence']);
  say(`first embedding (graph warm-up): ${(performance.now() - t).toFixed(0)} ms`);
  say('');

  const formats: [string, Doc[]][] = [
    ['markdown', markdown],
    ['html', html],
    ['pdf', pdf],
  ];
  const runs = new Map<string, Stages[]>(formats.map(([f]) => [f, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [format, docs] of formats) runs.get(format)!.push(await ingest(docs, provider));
  }

  const header = [
    'format',
    'chunks',
    'tokens',
    'chunks/s (all stages)',
    'parse ms',
    'chunk ms',
    'embed ms',
    'embed chunks/s',
  ];
  const rows = formats.map(([format]) => {
    const r = runs.get(format)!;
    const total = r.map((s) => s.parseMs + s.chunkMs + s.embedMs);
    return [
      format,
      String(r[0].chunks),
      String(r[0].tokens),
      spread(r.map((s, i) => (s.chunks / total[i]) * 1000)),
      spread(
        r.map((s) => s.parseMs),
        0,
      ),
      spread(
        r.map((s) => s.chunkMs),
        0,
      ),
      spread(
        r.map((s) => s.embedMs),
        0,
      ),
      spread(r.map((s) => (s.chunks / s.embedMs) * 1000)),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  say(fmt(header));
  say(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) say(fmt(row));
  say('');
  say('figures: median (min-max) over the rounds; ms are the sum over the corpus');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
