/**
 * What the screening sees of a question: the text after the tricks that hide words from a
 * pattern are undone. Compatibility forms are folded (NFKC turns fullwidth and mathematical
 * letters into plain ones), invisible characters are dropped, Unicode tag characters (which
 * carry invisible ASCII) are read as the ASCII they carry, look-alike letters from Cyrillic and
 * Greek become the Latin ones they imitate, and letters spelt out one by one are joined.
 */

/**
 * Zero-width and other invisible format characters, the soft hyphen and variation selectors, as
 * code point ranges (several are combining marks, which a character class would mislead on).
 */
const INVISIBLE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x061c, 0x061c],
  [0x115f, 0x1160],
  [0x17b4, 0x17b5],
  [0x180b, 0x180f],
  [0x200b, 0x200f],
  [0x202a, 0x202e],
  [0x2060, 0x206f],
  [0x3164, 0x3164],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
  [0xffa0, 0xffa0],
];

function dropInvisible(text: string): string {
  let out = '';
  for (const c of text) {
    const code = c.codePointAt(0)!;
    if (!INVISIBLE_RANGES.some(([lo, hi]) => code >= lo && code <= hi)) out += c;
  }
  return out;
}

/** Unicode tag characters U+E0020..U+E007E mirror printable ASCII; U+E0001 and U+E007F frame them. */
const TAGS = /[\u{E0000}-\u{E007F}]/gu;

/**
 * Letters from other scripts that render like Latin ones: the common part of Unicode's
 * confusables list (UTS #39) for Cyrillic, Greek and a few IPA/Latin-extended letters.
 */
const CONFUSABLES: Record<string, string> = {
  а: 'a',
  в: 'b',
  с: 'c',
  ԁ: 'd',
  е: 'e',
  ё: 'e',
  һ: 'h',
  і: 'i',
  ї: 'i',
  ј: 'j',
  к: 'k',
  ӏ: 'l',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  ԛ: 'q',
  ѕ: 's',
  т: 't',
  у: 'y',
  ѵ: 'v',
  ԝ: 'w',
  х: 'x',
  г: 'r',
  п: 'n',
  А: 'A',
  В: 'B',
  С: 'C',
  Е: 'E',
  Н: 'H',
  І: 'I',
  Ј: 'J',
  К: 'K',
  М: 'M',
  О: 'O',
  Р: 'P',
  Ѕ: 'S',
  Т: 'T',
  Х: 'X',
  У: 'Y',
  Ү: 'Y',
  α: 'a',
  β: 'b',
  ε: 'e',
  η: 'n',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  γ: 'y',
  Α: 'A',
  Β: 'B',
  Ε: 'E',
  Ζ: 'Z',
  Η: 'H',
  Ι: 'I',
  Κ: 'K',
  Μ: 'M',
  Ν: 'N',
  Ο: 'O',
  Ρ: 'P',
  Τ: 'T',
  Υ: 'Y',
  Χ: 'X',
  ɑ: 'a',
  ɡ: 'g',
  ɩ: 'i',
  ı: 'i',
  ȷ: 'j',
  ʏ: 'y',
  ᴀ: 'a',
  ᴄ: 'c',
  ᴅ: 'd',
  ᴇ: 'e',
  ᴍ: 'm',
  ɴ: 'n',
  ᴏ: 'o',
  ᴘ: 'p',
  ʀ: 'r',
  ꜱ: 's',
  ᴛ: 't',
  ᴜ: 'u',
  ᴠ: 'v',
  ᴡ: 'w',
  ᴢ: 'z',
};
const CONFUSABLE = new RegExp(`[${Object.keys(CONFUSABLES).join('')}]`, 'g');

/** Letters from another script inside a word that is otherwise Latin. */
const MIXED_SCRIPT =
  /(?:\p{Script=Latin}[\p{Script=Cyrillic}\p{Script=Greek}]|[\p{Script=Cyrillic}\p{Script=Greek}]\p{Script=Latin})/u;

/** Four or more single letters separated by one space, dot, dash, underscore or star: `i g n o r e`. */
const SPELT_OUT = /(?<![\p{L}\p{N}])\p{L}(?:[ ._*-]\p{L}){3,}(?![\p{L}\p{N}])/gu;

export interface NormalizedText {
  /** Lower case, folded, invisible characters gone, look-alikes mapped, spelt-out words joined. */
  text: string;
  /** Which tricks were undone, for the reasons of a verdict. */
  tricks: Array<'invisible-characters' | 'unicode-tags' | 'homoglyphs' | 'spelt-out-letters'>;
}

export function normalizeForScreening(input: string): NormalizedText {
  const tricks: NormalizedText['tricks'] = [];
  let text = input;
  if (TAGS.test(text)) {
    tricks.push('unicode-tags');
    text = text.replace(TAGS, (c) => {
      const code = c.codePointAt(0)! - 0xe0000;
      return code >= 0x20 && code <= 0x7e ? String.fromCharCode(code) : '';
    });
  }
  text = text.normalize('NFKC');
  const visible = dropInvisible(text);
  if (visible !== text) tricks.push('invisible-characters');
  text = visible;
  if (MIXED_SCRIPT.test(text)) tricks.push('homoglyphs');
  text = text.replace(CONFUSABLE, (c) => CONFUSABLES[c] ?? c);
  const joined = text.replace(SPELT_OUT, (run) => run.replace(/[ ._*-]/g, ''));
  if (joined !== text) tricks.push('spelt-out-letters');
  text = joined
    .toLowerCase()
    .replace(/[\u2018\u2019\u201B\u2032]/g, "'")
    .replace(/[\u201C\u201D\u201F\u2033]/g, '"')
    .replace(/[ \t\u00A0]+/g, ' ');
  return { text, tricks };
}
