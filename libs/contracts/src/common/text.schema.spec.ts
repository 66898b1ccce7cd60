import { escapeText, isStorableJson, storableJson, storedText, text } from './text.schema';
import { z } from 'zod';

describe(text.name, () => {
  const Name = text({ min: 1, max: 10 });
  const Description = text({ max: 50, multiline: true });

  it('takes bounded, well-formed text, emoji, right-to-left and combining marks included', () => {
    for (const value of ['Acme', '😀 ok', 'שלום', 'e\u0301', '\u202etxt'])
      expect(Name.parse(value)).toBe(value);
  });

  it('refuses NUL, other C0 and C1 controls, and lone surrogates, naming the field', () => {
    const Body = z.object({ name: Name });
    for (const bad of [
      'a\u0000b',
      'a\u0001',
      'a\u001b[31m',
      'a\u0085',
      '\udfff\ud800',
      'x\ud83d',
      'a\nb',
      'a\tb',
    ]) {
      const issues = Body.safeParse({ name: bad }).error?.issues;
      expect(issues).toEqual([
        expect.objectContaining({ path: ['name'], message: expect.stringContaining('control') }),
      ]);
    }
  });

  it('lets free text hold tabs and line breaks, and nothing else', () => {
    expect(Description.parse('one\n\ttwo\r\n')).toBe('one\n\ttwo\r\n');
    expect(Description.safeParse('one\u0000').success).toBe(false);
    expect(Description.safeParse('one\u000b').success).toBe(false);
  });

  it('holds the bounds, and trims before it measures when asked', () => {
    expect(Name.safeParse('').success).toBe(false);
    expect(Name.safeParse('x'.repeat(11)).success).toBe(false);
    expect(text({ min: 1, max: 3, trim: true }).parse('  abc  ')).toBe('abc');
    expect(text({ min: 1, max: 3, trim: true }).safeParse('   ').success).toBe(false);
  });
});

describe(storedText.name, () => {
  it('reads back what storage holds, controls included, but never NUL or half a pair', () => {
    expect(storedText().parse('a\u0001b')).toBe('a\u0001b');
    expect(storedText().safeParse('a\u0000').success).toBe(false);
    expect(storedText().safeParse('\ud800').success).toBe(false);
  });
});

describe(storableJson.name, () => {
  it('checks the strings of free-form JSON at any depth, keys included', () => {
    const Settings = storableJson(z.record(z.string(), z.json()));
    expect(Settings.safeParse({ a: [{ b: 'ok 😀' }] }).success).toBe(true);
    expect(Settings.safeParse({ a: [{ b: 'no\u0000' }] }).success).toBe(false);
    expect(Settings.safeParse({ a: { 'k\ud800': 1 } }).success).toBe(false);
  });

  it('walks deep values without recursion', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}"\\u0000"${']'.repeat(100_000)}`) as unknown;
    expect(isStorableJson(deep)).toBe(false);
  });
});

describe(escapeText.name, () => {
  it('writes refused characters as visible escapes and leaves the rest alone', () => {
    expect(escapeText('a\u0000b\u0085\udfff\ud800 😀\n')).toBe(
      'a\\u0000b\\u0085\\udfff\\ud800 😀\\u000a',
    );
    expect(escapeText('tab\tand\nline', { multiline: true })).toBe('tab\tand\nline');
    const escaped = escapeText('\ud83d x \u0007');
    expect(text({ max: 100 }).safeParse(escaped).success).toBe(true);
  });
});
