/**
 * The context of an answer, assembled within a token budget before the model is called. The
 * budget covers the whole prompt: the fixed part (instructions, canary, question, the
 * documents' frame) and each passage's block, all counted with the same `countTokens` the caller
 * gives (the service passes its tokenizer; anything that counts tokens of a text will do).
 * Passages are taken in rank order; one that does not fit is skipped and the next tried, so a
 * long passage does not crowd out shorter ones after it. Nothing is cut mid-passage, except the
 * top-ranked passage when it alone exceeds what is left and a `truncate` function is given: it
 * is then cut to fit, at a token boundary. The whole prompt is counted again at the end and
 * passages are dropped from the end until it fits, so the budget holds even for a tokenizer
 * whose counts are not additive.
 */
import { buildPrompt, renderPassage, type ChatMessage, type PromptPassage } from './prompt-builder';

export interface RankedCandidate {
  documentId: string;
  chunkId: string;
  /** Retrieval score; higher ranks first (the candidates arrive ranked). */
  score: number;
  text: string;
  /** Shown to the model as the passage's source; the document id when absent. */
  documentName?: string;
}

export type CountTokens = (text: string) => number;

export interface AssembleContextOptions {
  /** Tokens the whole prompt may take; 4,000 unless set. */
  budgetTokens?: number;
  countTokens: CountTokens;
  question: string;
  canary: string;
  /** Cuts a text to at most `maxTokens` tokens at a token boundary; without it, nothing is cut. */
  truncate?: (text: string, maxTokens: number) => string;
  /** Tokens a chat template adds per message (role markers); 0 unless set. */
  perMessageTokens?: number;
}

export interface ContextPassage extends PromptPassage {
  documentId: string;
  chunkId: string;
  score: number;
}

export interface Citation {
  /** The passage id the answer cites, e.g. `1`. */
  id: string;
  documentId: string;
  chunkId: string;
  score: number;
}

export interface AssembledContext {
  passages: ContextPassage[];
  citations: Citation[];
  /** The chat messages to send: `buildPrompt` of the question and these passages. */
  messages: ChatMessage[];
  /** Tokens of the whole prompt, counted with `countTokens`: never above the budget. */
  tokens: number;
  /** Candidates left out, in rank order. */
  dropped: Array<{ documentId: string; chunkId: string; score: number }>;
  /** Whether the top passage was cut to fit. */
  truncated: boolean;
}

export const DEFAULT_CONTEXT_BUDGET_TOKENS = 4000;

/** The prompt does not fit the budget even without passages (a very long question). */
export class ContextBudgetError extends RangeError {
  constructor(
    readonly neededTokens: number,
    readonly budgetTokens: number,
  ) {
    super(
      `the prompt needs ${neededTokens} tokens without any passage, over the budget of ${budgetTokens}`,
    );
    this.name = 'ContextBudgetError';
  }
}

export function countPromptTokens(
  messages: readonly ChatMessage[],
  countTokens: CountTokens,
  perMessageTokens = 0,
): number {
  return messages.reduce((sum, m) => sum + countTokens(m.content) + perMessageTokens, 0);
}

export function assembleContext(
  candidates: readonly RankedCandidate[],
  options: AssembleContextOptions,
): AssembledContext {
  const budget = options.budgetTokens ?? DEFAULT_CONTEXT_BUDGET_TOKENS;
  if (!Number.isInteger(budget) || budget < 1)
    throw new RangeError('budgetTokens must be a positive integer');
  const { countTokens, question, canary } = options;
  const perMessage = options.perMessageTokens ?? 0;
  const promptTokens = (passages: readonly ContextPassage[]) =>
    countPromptTokens(buildPrompt({ question, canary, passages }), countTokens, perMessage);

  // the frame with one empty passage slot, less that slot: the fixed overhead of the prompt
  const emptySlot: ContextPassage = {
    id: '0',
    documentName: '',
    text: '',
    documentId: '',
    chunkId: '',
    score: 0,
  };
  const framed = promptTokens([emptySlot]) - countTokens(renderPassage(emptySlot));
  const bare = promptTokens([]);
  if (Math.min(framed, bare) > budget) throw new ContextBudgetError(Math.min(framed, bare), budget);

  const seen = new Set<string>();
  const selected: ContextPassage[] = [];
  const dropped: AssembledContext['dropped'] = [];
  let used = framed;
  let truncated = false;
  for (const c of candidates) {
    const key = `${c.documentId}\u0000${c.chunkId}`;
    if (seen.has(key) || c.text.trim() === '') continue;
    seen.add(key);
    const passage: ContextPassage = {
      id: String(selected.length + 1),
      documentName: c.documentName ?? c.documentId,
      text: c.text,
      documentId: c.documentId,
      chunkId: c.chunkId,
      score: c.score,
    };
    const cost = countTokens(renderPassage(passage));
    if (used + cost <= budget) {
      selected.push(passage);
      used += cost;
      continue;
    }
    const isTop = selected.length === 0 && dropped.length === 0;
    if (isTop && options.truncate) {
      const cut = truncateToFit(passage, budget - used, countTokens, options.truncate);
      if (cut) {
        selected.push(cut.passage);
        used += cut.cost;
        truncated = true;
        continue;
      }
    }
    dropped.push({ documentId: c.documentId, chunkId: c.chunkId, score: c.score });
  }

  // the exact count of what will be sent; drop from the end while a tokenizer's merges overshoot
  let tokens = promptTokens(selected);
  while (tokens > budget && selected.length > 0) {
    const last = selected.pop()!;
    dropped.push({ documentId: last.documentId, chunkId: last.chunkId, score: last.score });
    tokens = promptTokens(selected);
  }
  if (tokens > budget) throw new ContextBudgetError(tokens, budget);
  const rank = new Map<string, number>();
  candidates.forEach((c, i) => {
    const key = `${c.documentId}\u0000${c.chunkId}`;
    if (!rank.has(key)) rank.set(key, i);
  });
  const rankOf = (d: { documentId: string; chunkId: string }) =>
    rank.get(`${d.documentId}\u0000${d.chunkId}`) ?? 0;
  dropped.sort((a, b) => rankOf(a) - rankOf(b));

  return {
    passages: selected,
    citations: selected.map((p) => ({
      id: p.id,
      documentId: p.documentId,
      chunkId: p.chunkId,
      score: p.score,
    })),
    messages: buildPrompt({ question, canary, passages: selected }),
    tokens,
    dropped,
    truncated,
  };
}

/** The passage cut so that its block takes at most `room` tokens, or null when even a few words do not fit. */
function truncateToFit(
  passage: ContextPassage,
  room: number,
  countTokens: CountTokens,
  truncate: NonNullable<AssembleContextOptions['truncate']>,
): { passage: ContextPassage; cost: number } | null {
  const frame = countTokens(renderPassage({ ...passage, text: '' }));
  let allowance = room - frame;
  // a few tries: escaping and the frame can make the cut text count a little more than asked
  for (let attempt = 0; attempt < 8 && allowance > 0; attempt++) {
    const text = truncate(passage.text, allowance);
    if (text.trim() === '') return null;
    const cut = { ...passage, text };
    const cost = countTokens(renderPassage(cut));
    if (cost <= room) return { passage: cut, cost };
    allowance -= Math.max(1, cost - room);
  }
  return null;
}
