/**
 * `npm run bench:rag-query`: a question answered end to end through the gateway, as a caller
 * sees it: screening, embedding with the offline model, retrieval, context assembly, an
 * interactive inference job through the scheduler's fair share, the inference worker, the
 * model-server stand-in (15 ms between deltas, as `npm start` runs it), and back. Two tenants
 * compete: each has BENCH_RAG_QUERY_CLIENTS callers (default 4) asking in a loop until each
 * has had BENCH_RAG_QUERY_COUNT answers (default 60). Prints p50/p95 per tenant and overall,
 * answers per second, and for streamed answers the time to the citations and to the first
 * delta. Figures only, never pass/fail.
 */
import { INFERENCE_QUEUES } from '@lattice/contracts';
import { Cleanup, call, hex, login, runBench, startBenchPlatform } from './support/bench-platform';
import { say, sayMachine } from './support/report';

const COUNT = Number(process.env.BENCH_RAG_QUERY_COUNT ?? 60) || 60;
const CLIENTS = Number(process.env.BENCH_RAG_QUERY_CLIENTS ?? 4) || 4;
const STREAMED = Math.max(10, Math.floor(COUNT / 3));

const DOCUMENTS = [
  'The gateway listens on port 8080 and checks every access token against the JWKS.',
  'Invoices are sent monthly by the billing team; disputes go to the finance desk.',
  'Backups run nightly at 02:00 UTC and are kept for thirty days in two regions.',
  'Travel must be booked through the portal at least fourteen days ahead.',
  'Incidents are triaged within fifteen minutes by the on-call engineer.',
  'Laptops are replaced every three years; lost devices are reported to security.',
];
const QUESTIONS = [
  'Which port does the gateway listen on?',
  'When do backups run and how long are they kept?',
  'How far ahead must travel be booked?',
  'Who triages incidents and how fast?',
  'How often are laptops replaced?',
  'Who sends invoices?',
];

const quantile = (sorted: number[], q: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const ms = (n: number) => `${n.toFixed(0)} ms`;

interface Tenant {
  name: string;
  id: string;
  auth: Record<string, string>;
  collection: string;
}

runBench(async (cleanup: Cleanup) => {
  sayMachine();
  const platform = await startBenchPlatform(cleanup);
  const gw = platform.gatewayUrl;
  const admin = platform.adminAuth;
  const queue = await fetch(`${gw}/v1/queues`, {
    method: 'POST',
    headers: { ...admin, 'content-type': 'application/json' },
    body: JSON.stringify(INFERENCE_QUEUES[0]),
  });
  if (queue.status !== 201 && queue.status !== 409)
    throw new Error(`creating the inference queue answered ${queue.status}`);

  const tenants: Tenant[] = [];
  for (const name of ['tenant-a', 'tenant-b']) {
    const slug = `${name}-${hex(3)}`;
    const { id } = await call<{ id: string }>('creating a tenant', `${gw}/v1/tenants`, {
      method: 'POST',
      headers: admin,
      body: { slug, name: slug, plan: 'enterprise' },
      expect: 201,
    });
    const email = `dev-${hex(3)}@example.com`;
    const password = hex(12);
    await call('creating a developer', `${gw}/v1/users`, {
      method: 'POST',
      headers: admin,
      body: { tenantId: id, email, password, roles: ['developer'] },
      expect: 201,
    });
    const auth = await login(gw, { tenant: slug, email, password });
    const collection = await call<{ id: string }>('creating a collection', `${gw}/v1/collections`, {
      method: 'POST',
      headers: auth,
      body: {
        name: 'handbook',
        embeddingModel: 'universal-sentence-encoder-lite',
        embeddingDimension: 512,
      },
      expect: 201,
    });
    const documents: string[] = [];
    for (const [i, text] of DOCUMENTS.entries()) {
      const { id: documentId } = await call<{ id: string }>(
        'adding a document',
        `${gw}/v1/collections/${collection.id}/documents`,
        {
          method: 'POST',
          headers: auth,
          body: { sourceName: `doc-${i}.md`, mediaType: 'text/plain', content: text },
          expect: 201,
        },
      );
      documents.push(`${collection.id}/documents/${documentId}`);
    }
    // ingested as jobs on the embedding queue, by the offline model
    for (const path of documents) {
      for (;;) {
        const doc = await call<{ status: string }>(
          'reading a document',
          `${gw}/v1/collections/${path}`,
          {
            headers: auth,
          },
        );
        if (doc.status === 'ready') break;
        if (doc.status === 'failed') throw new Error(`ingest of ${path} failed`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    tenants.push({ name, id, auth, collection: collection.id });
  }

  const ask = async (tenant: Tenant, question: string) => {
    const started = performance.now();
    const response = await fetch(`${gw}/v1/rag/query`, {
      method: 'POST',
      headers: { ...tenant.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ collection: tenant.collection, question }),
    });
    const body = await response.text();
    if (response.status !== 200) throw new Error(`query answered ${response.status}: ${body}`);
    return performance.now() - started;
  };

  // warm-up: the offline model loads in the RAG service on its first question
  for (const t of tenants) await ask(t, QUESTIONS[0]!);

  say(
    `\nJSON answers: 2 tenants x ${CLIENTS} callers, ${COUNT} answers per tenant, developer tokens`,
  );
  const latencies = new Map<string, number[]>(tenants.map((t) => [t.name, []]));
  const began = performance.now();
  await Promise.all(
    tenants.flatMap((tenant) => {
      let asked = 0;
      return Array.from({ length: CLIENTS }, async () => {
        while (asked < COUNT) {
          const n = asked++;
          latencies.get(tenant.name)!.push(await ask(tenant, QUESTIONS[n % QUESTIONS.length]!));
        }
      });
    }),
  );
  const seconds = (performance.now() - began) / 1000;
  const all: number[] = [];
  for (const [name, values] of latencies) {
    const sorted = [...values].sort((a, b) => a - b);
    all.push(...values);
    say(
      `  ${name}: p50 ${ms(quantile(sorted, 0.5))}, p95 ${ms(quantile(sorted, 0.95))}, max ${ms(sorted.at(-1)!)} (${values.length} answers)`,
    );
  }
  all.sort((a, b) => a - b);
  say(
    `  overall: p50 ${ms(quantile(all, 0.5))}, p95 ${ms(quantile(all, 0.95))}; ${(all.length / seconds).toFixed(1)} answers/s`,
  );

  say(`\nstreamed answers, one caller of tenant-a at a time, ${STREAMED} answers`);
  const toCitations: number[] = [];
  const toFirstDelta: number[] = [];
  const toDone: number[] = [];
  for (let i = 0; i < STREAMED; i++) {
    const tenant = tenants[0]!;
    const started = performance.now();
    const response = await fetch(`${gw}/v1/rag/query`, {
      method: 'POST',
      headers: { ...tenant.auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        collection: tenant.collection,
        question: QUESTIONS[i % QUESTIONS.length],
        stream: true,
      }),
    });
    if (response.status !== 200) throw new Error(`stream answered ${response.status}`);
    const reader = response.body!.getReader();
    let text = '';
    let citations: number | undefined;
    let delta: number | undefined;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
      if (citations === undefined && text.includes('event: citations'))
        citations = performance.now() - started;
      if (delta === undefined && text.includes('event: delta')) delta = performance.now() - started;
    }
    if (!text.includes('event: done')) throw new Error(`the stream did not end with done: ${text}`);
    toCitations.push(citations ?? NaN);
    toFirstDelta.push(delta ?? NaN);
    toDone.push(performance.now() - started);
  }
  for (const [label, values] of [
    ['to citations', toCitations],
    ['to first delta', toFirstDelta],
    ['to done', toDone],
  ] as const) {
    const sorted = [...values].sort((a, b) => a - b);
    say(`  ${label}: p50 ${ms(quantile(sorted, 0.5))}, p95 ${ms(quantile(sorted, 0.95))}`);
  }
  say('\nthe model server is the stand-in (15 ms between deltas); figures include its pauses');
});
