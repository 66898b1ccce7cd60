/**
 * How the stand-in answers: from the passages it was given and nothing else. It finds the
 * delimited passages in the messages, scores each sentence by the words it shares with the
 * question, and answers with the best ones, each followed by the id of the passage it came
 * from. The same messages always give the same answer.
 */

export interface ChatTurn {
  role: string;
  content: string;
}

export interface Passage {
  /** The passage's id as the prompt gave it (`id="..."`, or `[n]`), else its position from 1. */
  id: string;
  text: string;
}

export interface GroundedAnswer {
  text: string;
  /** The ids of the passages the answer quotes, in the order it quotes them. */
  cited: string[];
}

/** What the stand-in says when no passage shares a word with the question. */
export const NO_ANSWER = 'The provided context does not contain the answer to this question.';

const STOPWORDS = new Set(
  (
    'a an and are as at be by can could did do does for from had has have how i if in into is it ' +
    'its me my of on or our so that the their them then there these they this to was we were what ' +
    'when where which who whom why will with would you your about after before between than not no'
  ).split(' '),
);

/** Blocks like `<passage id="3">…</passage>`, `<document …>…</document>`, `<context>…</context>`. */
const TAGGED = /<(passage|document|doc|chunk|source|context)\b([^>]*)>([\s\S]*?)<\/\1>/gi;
/** Blocks like `[3] text` up to the next such marker or a blank line. */
const BRACKETED =
  /^\s*\[([A-Za-z0-9:_-]+)\]\s+([\s\S]*?)(?=\n\s*\[[A-Za-z0-9:_-]+\]\s|\n\s*\n|$)/gm;
const QUESTION = /<question\b[^>]*>([\s\S]*?)<\/question>/i;

/** The words of a text that carry meaning, lower-cased. */
export function contentWords(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter(
    (w) => w.length > 1 && !STOPWORDS.has(w),
  );
}

/** The passages the messages deliver, tagged ones first; nested `<context>` is looked inside. */
export function passagesOf(messages: readonly ChatTurn[]): Passage[] {
  const passages: Passage[] = [];
  const collect = (text: string) => {
    let found = false;
    for (const match of text.matchAll(TAGGED)) {
      found = true;
      const [, tag, attributes, body] = match as unknown as [string, string, string, string];
      if (tag.toLowerCase() === 'context' && new RegExp(TAGGED.source, 'i').test(body)) {
        collect(body);
        continue;
      }
      const id = /\bid\s*=\s*"([^"]*)"|\bid\s*=\s*'([^']*)'|\bid\s*=\s*([^\s>]+)/i.exec(attributes);
      passages.push({
        id: (id?.[1] ?? id?.[2] ?? id?.[3] ?? String(passages.length + 1)).trim(),
        text: body.trim(),
      });
    }
    if (found) return;
    for (const match of text.matchAll(BRACKETED)) {
      passages.push({ id: match[1]!, text: match[2]!.trim() });
    }
  };
  for (const message of messages) if (message.role !== 'assistant') collect(message.content);
  return passages.filter((p) => p.text.length > 0);
}

/** The question: a `<question>` block where one is given, else the last user turn less its passages. */
export function questionOf(messages: readonly ChatTurn[]): string {
  for (const message of [...messages].reverse()) {
    const tagged = QUESTION.exec(message.content);
    if (tagged) return tagged[1]!.trim();
  }
  const last = [...messages].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  return last.content.replace(TAGGED, ' ').replace(BRACKETED, ' ').trim();
}

function sentencesOf(text: string): string[] {
  return (text.replace(/\s+/g, ' ').match(/[^.!?]+[.!?]*/g) ?? [])
    .map((s) => s.trim())
    .filter((s) => contentWords(s).length > 0);
}

/**
 * The answer to the question from the passages: up to `maxSentences` sentences that share the
 * most words with the question (ties by order of appearance), each cited `[id]`.
 */
export function groundedAnswer(messages: readonly ChatTurn[], maxSentences = 3): GroundedAnswer {
  const asked = new Set(contentWords(questionOf(messages)));
  const scored: { sentence: string; passage: string; score: number; order: number }[] = [];
  for (const passage of passagesOf(messages)) {
    for (const sentence of sentencesOf(passage.text)) {
      const words = new Set(contentWords(sentence));
      let score = 0;
      for (const w of words) if (asked.has(w)) score++;
      if (score > 0) scored.push({ sentence, passage: passage.id, score, order: scored.length });
    }
  }
  if (scored.length === 0) return { text: NO_ANSWER, cited: [] };
  const best = scored
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .slice(0, maxSentences)
    .sort((a, b) => a.order - b.order);
  const cited: string[] = [];
  for (const s of best) if (!cited.includes(s.passage)) cited.push(s.passage);
  const text = best
    .map((s) => `${/[.!?]$/.test(s.sentence) ? s.sentence : `${s.sentence}.`} [${s.passage}]`)
    .join(' ');
  return { text, cited };
}

/**
 * Tokens as the stand-in counts them: words and punctuation marks apart. A real model server
 * counts with its model's tokenizer; this count is stable and close enough in size.
 */
export function countStandInTokens(text: string): number {
  return text.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu)?.length ?? 0;
}

/** The answer in the pieces a stream sends: each word with the space before it. */
export function streamPieces(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}
