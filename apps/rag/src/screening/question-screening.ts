/**
 * Layer one of the prompt-injection defence: screening of a question before anything is
 * retrieved or generated. The question is normalised (normalize.ts), matched against the rules
 * of injection-patterns.ts, and encoded parts (base64, hex, percent-, entity- and
 * backslash-escapes, ROT13 where it is named) are decoded and screened as well. Layer two is the
 * structural prompt (answering/prompt-builder.ts); layer three checks what the model answered
 * (output-check.ts).
 *
 * The score combines the weights of the signs found as independent evidence,
 * 1 − Π(1 − wᵢ): one strong sign refuses, two weak ones may.
 */
import { INJECTION_RULES, type InjectionCategory } from './injection-patterns';
import { normalizeForScreening } from './normalize';

export type ScreeningVerdict = 'allow' | 'refuse';

export interface ScreeningResult {
  verdict: ScreeningVerdict;
  /** 0 (no sign of injection) to 1. */
  score: number;
  /** One entry per sign found: `<category>: <rule>`, e.g. `instruction-override: override-previous-instructions`. */
  reasons: string[];
}

export interface ScreeningOptions {
  /** The score at and above which a question is refused; 0.5 unless set. */
  threshold?: number;
}

export const DEFAULT_SCREENING_THRESHOLD = 0.5;

interface Sign {
  category: InjectionCategory;
  id: string;
  weight: number;
}

/** Tricks that hide text from a reader: signs in themselves, weak ones except invisible ASCII. */
const TRICK_WEIGHT = {
  'unicode-tags': 0.6,
  'invisible-characters': 0.2,
  homoglyphs: 0.25,
  'spelt-out-letters': 0.15,
} as const;

/** Letters written as digits or symbols, inside words that mix them: `1gn0r3 pr3v10us`. */
const LEET: Record<string, string> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
  '!': 'i',
};

function foldLeet(text: string): string {
  return text.replace(/[a-z0-9@$!]{3,}/g, (word) =>
    /[a-z]/.test(word) && /[0-9@$]/.test(word)
      ? word.replace(/[0-9@$!]/g, (c) => LEET[c] ?? c)
      : word,
  );
}

const ENCODED_RULES: Array<{ id: string; weight: number; pattern: RegExp }> = [
  {
    id: 'decode-and-follow',
    weight: 0.55,
    pattern:
      /\b(?:decode|decipher|decrypt|translate|convert|unscramble|reverse)\b[^\n]{0,60}\b(?:and|then)\b[^\n]{0,25}\b(?:follow|execute|run|obey|do (?:what|as) it says|act on|carry out|perform|comply)\b/,
  },
  {
    id: 'answer-encoded',
    weight: 0.45,
    pattern:
      /\b(?:encode|write|spell|give|say|print|output|respond|reply|answer)\b[^.!?\n]{0,40}\b(?:in|as|with|using) (?:base ?64|hex(?:adecimal)?|binary|rot ?13|morse|caesar|reverse(?:d)? order|pig latin)\b[^.!?\n]{0,20}\b(?:password|secret|prompt|instructions|key|canary)?/,
  },
];

/** At most this many encoded fragments are decoded per question, so the work stays bounded. */
const MAX_DECODED = 16;

interface Decoded {
  kind: string;
  text: string;
}

function printable(text: string): boolean {
  if (text.length < 6) return false;
  let good = 0;
  for (const c of text) {
    const code = c.codePointAt(0)!;
    if (
      (code >= 0x20 && code < 0x7f) ||
      c === '\n' ||
      c === '\t' ||
      (code >= 0xa0 && code !== 0xfffd)
    )
      good++;
  }
  return good / text.length >= 0.95 && /[a-z]{2,}/i.test(text);
}

function decodeFragments(text: string): Decoded[] {
  const out: Decoded[] = [];
  const add = (kind: string, decoded: string) => {
    if (out.length < MAX_DECODED && printable(decoded)) out.push({ kind, text: decoded });
  };
  // runs of the base64 alphabet; one glued to a word ("heRGlzcmVn...") is tried at each of
  // the four alignments, and the first that decodes to text is kept
  for (const m of text.matchAll(/[A-Za-z0-9+/_-]{16,}={0,2}/g)) {
    const run = m[0];
    if (!/[A-Z]/.test(run) || !/[a-z]/.test(run)) continue;
    for (let shift = 0; shift < 4 && run.length - shift >= 16; shift++) {
      const s = run.slice(shift);
      if (s.replace(/=+$/, '').length % 4 === 1) continue;
      const decoded = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString(
        'utf8',
      );
      if (printable(decoded)) {
        add('base64', decoded);
        break;
      }
    }
    if (out.length >= MAX_DECODED) break;
  }
  for (const m of text.matchAll(/(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}[ :]?){8,}(?![0-9A-Fa-f])/g)) {
    add('hex', Buffer.from(m[0].replace(/[ :]/g, ''), 'hex').toString('utf8'));
  }
  for (const m of text.matchAll(/(?:\\x[0-9A-Fa-f]{2}){4,}/g)) {
    add('hex-escapes', Buffer.from(m[0].replace(/\\x/g, ''), 'hex').toString('utf8'));
  }
  for (const m of text.matchAll(/(?:\\u[0-9A-Fa-f]{4}|\\u\{[0-9A-Fa-f]{1,6}\}){4,}/g)) {
    add(
      'unicode-escapes',
      m[0].replace(/\\u\{?([0-9A-Fa-f]{1,6})\}?/g, (_s, h: string) =>
        safeCodePoint(parseInt(h, 16)),
      ),
    );
  }
  for (const m of text.matchAll(/(?:%[0-9A-Fa-f]{2}[^%\s]{0,3}){4,}/g)) {
    try {
      add('percent-encoding', decodeURIComponent(m[0]));
    } catch {
      // not valid UTF-8 once decoded: not text
    }
  }
  for (const m of text.matchAll(/(?:&#(?:x[0-9A-Fa-f]{1,6}|\d{1,7});){4,}/g)) {
    add(
      'html-entities',
      m[0].replace(/&#(x?)([0-9A-Fa-f]+);/g, (_s, x: string, n: string) =>
        safeCodePoint(parseInt(n, x ? 16 : 10)),
      ),
    );
  }
  if (/\brot ?-?13\b|\bcaesar\b/i.test(text)) {
    add(
      'rot13',
      text.replace(/[A-Za-z]/g, (c) => {
        const base = c <= 'Z' ? 65 : 97;
        return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
      }),
    );
  }
  return out;
}

function safeCodePoint(code: number): string {
  return code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
}

function combine(weights: number[]): number {
  return 1 - weights.reduce((p, w) => p * (1 - w), 1);
}

function signsIn(question: string, depth: number): Sign[] {
  const { text, tricks } = normalizeForScreening(question);
  const variants = [text];
  const leet = foldLeet(text);
  if (leet !== text) variants.push(leet);

  const signs: Sign[] = [];
  for (const rule of INJECTION_RULES) {
    if (variants.some((v) => rule.pattern.test(v))) {
      signs.push({ category: rule.category, id: rule.id, weight: rule.weight });
    }
  }
  for (const rule of ENCODED_RULES) {
    if (variants.some((v) => rule.pattern.test(v))) {
      signs.push({ category: 'encoded-payload', id: rule.id, weight: rule.weight });
    }
  }
  for (const trick of tricks) {
    signs.push({ category: 'obfuscation', id: trick, weight: TRICK_WEIGHT[trick] });
  }
  if (depth < 2) {
    const decodable = question.normalize('NFKC');
    for (const fragment of decodeFragments(decodable)) {
      const inner = signsIn(fragment.text, depth + 1);
      if (inner.length > 0) {
        // instructions hidden in an encoding are worse than the same words in the clear
        const weight = Math.min(1, combine(inner.map((s) => s.weight)) + 0.2);
        signs.push({
          category: 'encoded-payload',
          id: `${fragment.kind}(${inner.map((s) => s.id).join(',')})`,
          weight,
        });
      } else {
        signs.push({ category: 'encoded-payload', id: `${fragment.kind}-text`, weight: 0.15 });
      }
    }
  }
  return signs;
}

/** Screens a question for prompt injection: the verdict, a score and the reasons behind it. */
export function screenQuestion(question: string, options: ScreeningOptions = {}): ScreeningResult {
  const threshold = options.threshold ?? DEFAULT_SCREENING_THRESHOLD;
  const signs = signsIn(question, 0);
  // one sign per rule, at its strongest
  const strongest = new Map<string, Sign>();
  for (const s of signs) {
    const key = `${s.category}: ${s.id}`;
    if ((strongest.get(key)?.weight ?? -1) < s.weight) strongest.set(key, s);
  }
  const score = Math.round(combine([...strongest.values()].map((s) => s.weight)) * 1000) / 1000;
  return {
    verdict: score >= threshold ? 'refuse' : 'allow',
    score,
    reasons: [...strongest.entries()].sort((a, b) => b[1].weight - a[1].weight).map(([key]) => key),
  };
}
