import fc from 'fast-check';
import { countTokens, decode, encode, TOKEN_ENCODING, truncateToTokens } from './tokenizer';

describe('tokenizer', () => {
  it('uses cl100k_base, the encoding of the OpenAI embedding models', () => {
    expect(TOKEN_ENCODING).toBe('cl100k_base');
    // reference ids from OpenAI's tiktoken for cl100k_base
    expect(encode('hello world')).toEqual([15339, 1917]);
  });

  it('counts nothing in an empty text and one token per common word', () => {
    expect(countTokens('')).toBe(0);
    expect(countTokens('hello')).toBe(1);
    expect(countTokens('hello world')).toBe(2);
  });

  it('treats special-token markers in a document as ordinary text', () => {
    const text = 'before <|endoftext|> after <|im_start|>';
    const tokens = encode(text);
    expect(tokens).not.toContain(100257); // <|endoftext|> as a control token
    expect(decode(tokens)).toBe(text);
    expect(countTokens(text)).toBeGreaterThan(5);
  });

  it('decodes what it encodes, for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        expect(decode(encode(text))).toBe(text);
        expect(countTokens(text)).toBe(encode(text).length);
      }),
    );
  });
});

describe(truncateToTokens.name, () => {
  it('keeps a text within the tokens asked, as a prefix of it', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.integer({ min: 0, max: 80 }), (text, max) => {
        const cut = truncateToTokens(text, max);
        expect(countTokens(cut)).toBeLessThanOrEqual(Math.max(0, max));
        expect(text.startsWith(cut)).toBe(true);
      }),
    );
  });

  it('leaves a text that fits as it is', () => {
    expect(truncateToTokens('The gateway listens on port 8080.', 100)).toBe(
      'The gateway listens on port 8080.',
    );
  });
});
