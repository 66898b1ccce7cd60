/**
 * PII redaction of what is sent to the model and of what is logged: e-mail addresses, phone
 * numbers, national id numbers (US SSN, UK NINO, Dutch BSN with its eleven-test), payment card
 * numbers that pass the Luhn check, IPv4 and IPv6 addresses. Each finding becomes a placeholder
 * such as `[EMAIL]`.
 *
 * Every pattern is a bounded scan: no quantifier nests another over the same characters, so the
 * work per start position is bounded by a constant and a whole text is linear in its length
 * (no catastrophic backtracking). Candidates are cut by these patterns and then checked in code
 * (Luhn, eleven-test, digit counts, `isIPv6`), which keeps the patterns simple.
 */
import { isIPv6 } from 'node:net';

export type PiiType =
  'email' | 'phone' | 'us-ssn' | 'uk-nino' | 'nl-bsn' | 'card' | 'ipv4' | 'ipv6';

export const PII_TYPES: readonly PiiType[] = [
  'email',
  'phone',
  'us-ssn',
  'uk-nino',
  'nl-bsn',
  'card',
  'ipv4',
  'ipv6',
];

/** The text that replaces each kind of finding. */
export const PII_PLACEHOLDERS: Readonly<Record<PiiType, string>> = {
  email: '[EMAIL]',
  phone: '[PHONE]',
  'us-ssn': '[NATIONAL_ID]',
  'uk-nino': '[NATIONAL_ID]',
  'nl-bsn': '[NATIONAL_ID]',
  card: '[CARD_NUMBER]',
  ipv4: '[IP_ADDRESS]',
  ipv6: '[IP_ADDRESS]',
};

/** A finding, by its offsets in the text that was given (`end` exclusive). */
export interface PiiFinding {
  type: PiiType;
  start: number;
  end: number;
}

export interface RedactionResult {
  text: string;
  findings: PiiFinding[];
}

interface Detector {
  type: PiiType;
  /** Lower wins when two candidates overlap with the same extent. */
  rank: number;
  pattern: RegExp;
  /** The span of the match that is PII, or null when the candidate fails its check. */
  accept(match: RegExpExecArray, text: string): { start: number; end: number } | null;
}

const PLACEHOLDER = /\[(?:EMAIL|PHONE|NATIONAL_ID|CARD_NUMBER|IP_ADDRESS)\]/g;

const digitsOf = (s: string) => s.replace(/\D/g, '');

/** The Luhn (mod 10) check of ISO/IEC 7812 that every payment card number passes. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * The eleven-test (elfproef) of the Dutch citizen service number (BSN): 9 digits d1..d9 with
 * 9·d1 + 8·d2 + … + 2·d8 − 1·d9 divisible by 11, and not all zero.
 */
export function bsnValid(digits: string): boolean {
  if (!/^\d{9}$/.test(digits) || /^0+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += (9 - i) * (digits.charCodeAt(i) - 48);
  sum -= digits.charCodeAt(8) - 48;
  return sum % 11 === 0;
}

const whole = (m: RegExpExecArray) => ({ start: m.index, end: m.index + m[0].length });

/** Words that, shortly before a bare nine-digit number, say it is a BSN. */
const BSN_CONTEXT =
  /\b(?:bsn|burgerservicenummer|sofinummer|sofi-nummer|citizen service number)\b/i;

const DETECTORS: Detector[] = [
  {
    type: 'email',
    rank: 0,
    pattern:
      /(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?){0,8}\.[A-Za-z]{2,24}(?![\w-]|\.[A-Za-z0-9])/g,
    accept: whole,
  },
  {
    // 13 to 19 digits in groups of 1 to 6 separated by single spaces or dashes, Luhn-valid
    type: 'card',
    rank: 1,
    pattern: /(?<![\w.-])\d{1,6}(?:[ -]\d{1,6}){0,6}(?![\w]|[.-]\d)/g,
    accept(m) {
      const raw = m[0];
      // an unseparated run or 2..7 groups; the separator is the same throughout
      if (/ /.test(raw) && /-/.test(raw)) return null;
      const digits = digitsOf(raw);
      if (digits.length < 13 || digits.length > 19) return null;
      if (/^(\d)\1+$/.test(digits)) return null;
      return luhnValid(digits) ? whole(m) : null;
    },
  },
  {
    type: 'card',
    rank: 1,
    pattern: /(?<![\w.-])\d{13,19}(?![\w]|[.-]\d)/g,
    accept(m) {
      if (/^(\d)\1+$/.test(m[0])) return null;
      return luhnValid(m[0]) ? whole(m) : null;
    },
  },
  {
    // AAA-GG-SSSS, with one separator used throughout; area 000, 666 and 9xx are never issued
    type: 'us-ssn',
    rank: 2,
    pattern: /(?<![\w-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w]|-\d)/g,
    accept: whole,
  },
  {
    // two prefix letters (not D, F, I, Q, U, V; second not O; not BG GB KN NK NT TN ZZ),
    // six digits (optionally in pairs) and a suffix A to D
    type: 'uk-nino',
    rank: 2,
    pattern:
      /(?<![A-Za-z0-9])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])/g,
    accept: whole,
  },
  {
    // the dotted form 1234.56.782 on its own; a bare nine-digit number only next to a word
    // that names it, since one in eleven random nine-digit numbers passes the eleven-test
    type: 'nl-bsn',
    rank: 2,
    pattern: /(?<![\w.-])(?:\d{4}\.\d{2}\.\d{3}|\d{9})(?![\w]|[.-]\d)/g,
    accept(m, text) {
      const digits = digitsOf(m[0]);
      if (!bsnValid(digits)) return null;
      if (m[0].length === 9) {
        const before = text.slice(Math.max(0, m.index - 40), m.index);
        if (!BSN_CONTEXT.test(before)) return null;
      }
      return whole(m);
    },
  },
  {
    type: 'ipv4',
    rank: 3,
    pattern:
      /(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)/g,
    accept: whole,
  },
  {
    // a run of hex digits, colons and dots with at least two colons, then Node's own parser
    type: 'ipv6',
    rank: 3,
    pattern: /(?<![\w:.])[0-9A-Fa-f:][0-9A-Fa-f:.]{1,44}(?![\w]|:[0-9A-Fa-f])/g,
    accept(m) {
      let raw = m[0];
      // a sentence may end the address with a colon or a full stop
      if (/[.:]$/.test(raw) && !raw.endsWith('::')) raw = raw.slice(0, -1);
      if (!/[0-9A-Fa-f]/.test(raw) || (raw.match(/:/g)?.length ?? 0) < 2) return null;
      return isIPv6(raw) ? { start: m.index, end: m.index + raw.length } : null;
    },
  },
  {
    // North American: (NXX) NXX-XXXX or NXX-NXX-XXXX, optionally after +1 / 1
    type: 'phone',
    rank: 4,
    pattern:
      /(?<![\w+])(?<!\d[ .-])(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[-. ])\d{3}[-. ]\d{4}(?![\w]|[-.]\d)/g,
    accept: whole,
  },
  {
    // international: + or 00, country code, then digit groups with single separators and at
    // most one bracketed group; 8 to 15 digits after the prefix (E.164)
    type: 'phone',
    rank: 4,
    pattern:
      /(?<![\w+])(?:\+|(?<!\d[ .-])00)[1-9]\d{0,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]?\d{1,5}){1,6}(?![\w]|[-.]\d)/g,
    accept(m) {
      const digits = digitsOf(m[0].startsWith('00') ? m[0].slice(2) : m[0]);
      return digits.length >= 8 && digits.length <= 15 ? whole(m) : null;
    },
  },
  {
    // national with a trunk 0 (UK 020 7946 0958, DE 030/1234567, FR 01 23 45 67 89,
    // NL 06-12345678): 9 to 11 digits
    type: 'phone',
    rank: 4,
    pattern:
      /(?<![\w+.-])(?<!\d[ /-])(?:\(0[1-9]\d{0,3}\)|0[1-9]\d{0,3})(?:[ /-]?\d{2,8}){1,4}(?![\w]|[-./]\d)/g,
    accept(m) {
      const digits = digitsOf(m[0]);
      return digits.length >= 9 && digits.length <= 11 ? whole(m) : null;
    },
  },
];

/** Spans of placeholders already in the text: nothing is redacted inside or across them. */
function placeholderSpans(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (const m of text.matchAll(PLACEHOLDER)) spans.push([m.index, m.index + m[0].length]);
  return spans;
}

/** The PII found in `text`, without overlaps, in order of position. */
export function findPii(text: string): PiiFinding[] {
  const protectedSpans = placeholderSpans(text);
  const candidates: Array<PiiFinding & { rank: number }> = [];
  for (const detector of DETECTORS) {
    detector.pattern.lastIndex = 0;
    for (const m of text.matchAll(detector.pattern)) {
      const span = detector.accept(m, text);
      if (!span || span.end <= span.start) continue;
      candidates.push({ type: detector.type, rank: detector.rank, ...span });
    }
  }
  // earliest first; at one start the longest, then the more specific kind
  candidates.sort((a, b) => a.start - b.start || b.end - a.end || a.rank - b.rank);
  const findings: PiiFinding[] = [];
  let covered = 0;
  let p = 0;
  for (const c of candidates) {
    if (c.start < covered) continue;
    while (p < protectedSpans.length && protectedSpans[p][1] <= c.start) p++;
    if (p < protectedSpans.length && protectedSpans[p][0] < c.end) continue;
    findings.push({ type: c.type, start: c.start, end: c.end });
    covered = c.end;
  }
  return findings;
}

interface Applied {
  text: string;
  /** Where each finding's placeholder stands in `text`. */
  placed: Array<{ outStart: number; outEnd: number; start: number; end: number }>;
}

function apply(text: string, findings: PiiFinding[]): Applied {
  let out = '';
  let at = 0;
  const placed: Applied['placed'] = [];
  for (const f of findings) {
    out += text.slice(at, f.start);
    const placeholder = PII_PLACEHOLDERS[f.type];
    placed.push({
      outStart: out.length,
      outEnd: out.length + placeholder.length,
      start: f.start,
      end: f.end,
    });
    out += placeholder;
    at = f.end;
  }
  return { text: out + text.slice(at), placed };
}

/**
 * Replaces each piece of PII with its placeholder. `findings` give offsets in the text that was
 * passed in. Idempotent: redacting the result again changes nothing. A placeholder can give a
 * neighbour a new edge (an address glued to a word becomes one next to `]`), so the result is
 * scanned again until nothing more is found; each pass replaces text outside placeholders, so
 * this ends, in practice after one or two passes.
 */
export function redactPii(text: string): RedactionResult {
  let findings = findPii(text);
  if (findings.length === 0) return { text, findings };
  for (;;) {
    const applied = apply(text, findings);
    const more = findPii(applied.text);
    if (more.length === 0) return { text: applied.text, findings };
    // back to offsets in `text`: shift by the length change of the placeholders before
    let k = 0;
    let shift = 0;
    const mapped = more.map((f) => {
      while (k < applied.placed.length && applied.placed[k].outEnd <= f.start) {
        const p = applied.placed[k];
        shift = p.end - p.outEnd;
        k++;
      }
      return { type: f.type, start: f.start + shift, end: f.end + shift };
    });
    findings = [...findings, ...mapped].sort((a, b) => a.start - b.start);
  }
}
