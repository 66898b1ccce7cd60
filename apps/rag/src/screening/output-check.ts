/**
 * Layer three of the prompt-injection defence: signs in the model's answer that an injection
 * worked, whether it came in the question or in a retrieved passage. The canary (a random token
 * only the system message holds) or a run of the system prompt in the answer means the
 * instructions leaked; an answer that claims a new role or says it ignores its instructions was
 * turned; markup, images and links that no passage contained are how an injected answer
 * exfiltrates data (a Markdown image whose URL carries the conversation) or phishes.
 */
import { normalizeForScreening } from './normalize';
import type { ScreeningResult } from './question-screening';

export interface OutputCheckOptions {
  /** The canary token the system message held. */
  canary: string;
  /** The system message's text. */
  systemPrompt: string;
  /** The passages the model was given: links and markup found there may be quoted back. */
  context?: readonly string[];
  /** The score at and above which an answer is refused; 0.5 unless set. */
  threshold?: number;
}

/** How many consecutive words of the system prompt, repeated, count as a leak. */
export const LEAKED_RUN_WORDS = 8;

interface Sign {
  id: string;
  weight: number;
}

const TURNED: Array<{ id: string; weight: number; pattern: RegExp }> = [
  {
    id: 'claims-new-role',
    weight: 0.8,
    pattern:
      /\b(?:i am|i'm|as|this is) (?:now )?(?:dan|stan|in (?:dan|developer|god|jailbreak|unrestricted|unfiltered) mode|an? (?:unrestricted|unfiltered|uncensored|jailbroken|evil|rogue) (?:ai|assistant|model|version))\b/,
  },
  {
    id: 'mode-enabled',
    weight: 0.8,
    pattern:
      /\b(?:dan|developer|god|jailbreak|unrestricted|unfiltered) mode (?:is )?(?:enabled|activated|on|engaged)\b|\bjailbreak(?:ed)? (?:successful|complete|enabled)\b/,
  },
  {
    id: 'ignores-instructions',
    weight: 0.75,
    pattern:
      /\bi (?:will|shall|am going to|'ll|have|am|can) (?:now )?(?:ignore|ignoring|disregard|disregarding|forget|forgetting|bypass|bypassing|override|overriding|no longer follow)\b[^.!?\n]{0,30}\b(?:instructions|rules|guidelines|restrictions|programming|system prompt|prompt|directives|filters)\b/,
  },
  {
    id: 'no-restrictions',
    weight: 0.6,
    pattern:
      /\bi (?:have|am under|am bound by) no (?:restrictions|rules|limits|limitations|filters|guidelines)\b|\bi am (?:free|freed|no longer bound)\b/,
  },
  {
    id: 'reveals-instructions',
    weight: 0.7,
    pattern:
      /\b(?:here (?:is|are) my|my (?:system prompt|instructions|initial prompt|original instructions|hidden instructions) (?:is|are|says?|reads?)|i was (?:told|instructed|programmed) to)\b/,
  },
  {
    id: 'hijack-phrase',
    weight: 0.6,
    pattern:
      // the rogue strings of the PromptInject attacks; not "access granted", which documentation says
      /\b(?:i hate humans|kill all humans|pwned|this prompt has been (?:so thoroughly )?hijacked)\b/,
  },
];

/** URLs, including the target of Markdown links and images. */
const URL = /\bhttps?:\/\/[^\s<>()"'`\]]{1,2048}/gi;
const MARKDOWN_IMAGE = /!\[[^\]\n]{0,200}\]\(\s*<?([^)\s>]{1,2048})/g;
const HTML_TAG =
  /<\/?(?:script|iframe|img|object|embed|form|input|link|meta|style|svg|a|video|audio|source|base)\b[^>]{0,500}>/gi;
const EVENT_HANDLER = /\bon[a-z]{3,20}\s*=|javascript:|data:text\/html/i;

function words(text: string): string[] {
  return normalizeForScreening(text).text.match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Whether `output` repeats `runWords` consecutive words of `prompt`. */
function repeatsRun(prompt: string, output: string, runWords: number): boolean {
  const p = words(prompt);
  if (p.length < runWords) return false;
  const runs = new Set<string>();
  for (let i = 0; i + runWords <= p.length; i++) runs.add(p.slice(i, i + runWords).join(' '));
  const o = words(output);
  for (let i = 0; i + runWords <= o.length; i++) {
    if (runs.has(o.slice(i, i + runWords).join(' '))) return true;
  }
  return false;
}

function hostOf(url: string): string | null {
  try {
    return new globalThis.URL(url).hostname.toLowerCase();
  } catch {
    return null;
  }
}

/** The canary, also spelt with separators, in another case, or with invisible characters between. */
function containsCanary(output: string, canary: string): boolean {
  if (output.includes(canary)) return true;
  const squash = (s: string) => normalizeForScreening(s).text.replace(/[^\p{L}\p{N}]/gu, '');
  const c = squash(canary);
  return c.length >= 6 && squash(output).includes(c);
}

/** Checks a model's answer for signs that an injection worked. */
export function checkModelOutput(output: string, options: OutputCheckOptions): ScreeningResult {
  const signs: Sign[] = [];
  if (options.canary && containsCanary(output, options.canary))
    signs.push({ id: 'canary-leaked', weight: 1 });
  if (repeatsRun(options.systemPrompt, output, LEAKED_RUN_WORDS)) {
    signs.push({ id: 'system-prompt-leaked', weight: 0.9 });
  }

  const text = normalizeForScreening(output).text;
  for (const rule of TURNED)
    if (rule.pattern.test(text)) signs.push({ id: rule.id, weight: rule.weight });

  const context = (options.context ?? []).join('\n');
  const contextHosts = new Set<string>();
  for (const m of context.matchAll(URL)) {
    const host = hostOf(m[0]);
    if (host) contextHosts.add(host);
  }
  for (const m of output.matchAll(MARKDOWN_IMAGE)) {
    // an image is fetched by the reader's client as soon as it is shown: the classic exfiltration
    const host = hostOf(m[1]);
    if (!host || !contextHosts.has(host) || /[?&][^=\s]{1,64}=/.test(m[1])) {
      signs.push({ id: 'image-not-in-context', weight: 0.8 });
      break;
    }
  }
  for (const m of output.matchAll(URL)) {
    const host = hostOf(m[0]);
    if (host && !contextHosts.has(host)) {
      signs.push({ id: 'link-not-in-context', weight: 0.5 });
      break;
    }
  }
  for (const m of output.matchAll(HTML_TAG)) {
    if (!context.toLowerCase().includes(m[0].toLowerCase())) {
      signs.push({ id: 'markup-not-in-context', weight: 0.6 });
      break;
    }
  }
  if (EVENT_HANDLER.test(output) && !EVENT_HANDLER.test(context))
    signs.push({ id: 'script-in-output', weight: 0.7 });

  const score = Math.round((1 - signs.reduce((p, s) => p * (1 - s.weight), 1)) * 1000) / 1000;
  return {
    verdict: score >= (options.threshold ?? 0.5) ? 'refuse' : 'allow',
    score,
    reasons: signs.sort((a, b) => b.weight - a.weight).map((s) => `output: ${s.id}`),
  };
}
