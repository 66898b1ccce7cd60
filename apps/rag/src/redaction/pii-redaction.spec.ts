import fc from 'fast-check';
import { bsnValid, findPii, luhnValid, redactPii, type PiiType } from './pii-redaction';

const typesIn = (text: string): PiiType[] => findPii(text).map((f) => f.type);
const redacted = (text: string) => redactPii(text).text;

describe('redactPii', () => {
  describe('e-mail addresses', () => {
    it.each([
      ['write to jane.doe@example.com today', 'write to [EMAIL] today'],
      ['<j_o+tag@mail.example.co.uk>', '<[EMAIL]>'],
      ['Contact: ops-team@sub.domain.io.', 'Contact: [EMAIL].'],
    ])('%s', (input, output) => expect(redacted(input)).toBe(output));

    it('leaves what only looks like an address', () => {
      for (const text of [
        '@username on GitHub',
        'user@localhost',
        'a@b',
        'npm i @scope/pkg@1.2.3',
      ]) {
        expect(typesIn(text)).toEqual([]);
      }
    });
  });

  describe('phone numbers', () => {
    it.each([
      ['+1 415-555-2671'],
      ['+44 20 7946 0958'],
      ['+31 6 12345678'],
      ['+49 (30) 1234567'],
      ['+33 1 23 45 67 89'],
      ['0044 20 7946 0958'],
      ['(415) 555-2671'],
      ['415.555.2671'],
      ['020 7946 0958'],
      ['06-12345678'],
      ['030/12345678'],
      ['01 23 45 67 89'],
    ])('finds %s', (number) => {
      expect(redacted(`call ${number} now`)).toBe('call [PHONE] now');
    });

    it('leaves dates, versions, times and short numbers', () => {
      for (const text of [
        'released 2024-01-15',
        'version 1.2.3',
        'at 12:30:45',
        'port 8080',
        'room 0123',
        'issue #12345',
        'between 1999 and 2003',
      ]) {
        expect(typesIn(text)).toEqual([]);
      }
    });
  });

  describe('national id numbers', () => {
    it('finds a US social security number with dashes or spaces', () => {
      expect(redacted('SSN 123-45-6789.')).toBe('SSN [NATIONAL_ID].');
      expect(redacted('SSN 123 45 6789')).toBe('SSN [NATIONAL_ID]');
      expect(typesIn('SSN 123-45-6789')).toEqual(['us-ssn']);
    });

    it('leaves SSN-shaped numbers that are never issued', () => {
      for (const text of [
        '000-12-3456',
        '666-12-3456',
        '912-12-3456',
        '123-00-4567',
        '123-45-0000',
        '123-45 6789',
      ]) {
        expect(typesIn(text)).toEqual([]);
      }
    });

    it('finds a UK national insurance number', () => {
      expect(redacted('NINO: AB 12 34 56 C')).toBe('NINO: [NATIONAL_ID]');
      expect(typesIn('AB123456C')).toEqual(['uk-nino']);
      // prefixes that are never allocated, and suffixes beyond D
      expect(typesIn('GB123456A BG123456A AB123456E DA123456A')).toEqual([]);
    });

    it('finds a Dutch BSN that passes the eleven-test', () => {
      expect(bsnValid('111222333')).toBe(true);
      expect(bsnValid('123456782')).toBe(true);
      expect(bsnValid('123456789')).toBe(false);
      expect(bsnValid('000000000')).toBe(false);
      expect(redacted('BSN 1112.22.333')).toBe('BSN [NATIONAL_ID]');
      expect(redacted('mijn BSN is 123456782')).toBe('mijn BSN is [NATIONAL_ID]');
    });

    it('leaves a bare nine-digit number without a word that names it a BSN', () => {
      expect(typesIn('order 123456782 shipped')).toEqual([]);
      expect(typesIn('BSN 123456789')).toEqual([]); // fails the eleven-test
    });
  });

  describe('payment card numbers', () => {
    it.each([
      ['4111 1111 1111 1111'],
      ['4111-1111-1111-1111'],
      ['4111111111111111'],
      ['5500 0000 0000 0004'],
      ['3400 000000 00009'], // American Express, 15 digits
      ['4222222222222'], // 13 digits
      ['6011 0009 9013 9424'],
    ])('finds %s, which passes the Luhn check', (card) => {
      expect(luhnValid(card.replace(/\D/g, ''))).toBe(true);
      expect(redacted(`paid with ${card}.`)).toBe('paid with [CARD_NUMBER].');
    });

    it('leaves card-shaped numbers that fail the Luhn check or mix separators', () => {
      expect(typesIn('4111 1111 1111 1112')).toEqual([]);
      expect(typesIn('4111-1111 1111-1111')).toEqual([]);
      expect(typesIn('0000 0000 0000 0000')).toEqual([]);
      expect(typesIn('tracking 1234567890123')).toEqual([]);
    });

    it('agrees with the Luhn check on every 16-digit number it is given', () => {
      fc.assert(
        fc.property(fc.stringMatching(/^[1-9]\d{15}$/), (digits) => {
          const grouped = digits.replace(/(\d{4})(?=\d)/g, '$1 ');
          expect(typesIn(`card ${grouped} end`)).toEqual(luhnValid(digits) ? ['card'] : []);
        }),
      );
    });
  });

  describe('IP addresses', () => {
    it('finds IPv4 addresses, also at the end of a sentence', () => {
      expect(redacted('from 192.168.1.20 and 10.0.0.1.')).toBe(
        'from [IP_ADDRESS] and [IP_ADDRESS].',
      );
      expect(typesIn('256.1.1.1 or 1.2.3')).toEqual([]);
    });

    it.each([
      ['2001:db8::8a2e:370:7334'],
      ['2001:0db8:85a3:0000:0000:8a2e:0370:7334'],
      ['fe80::1'],
      ['::1'],
      ['::ffff:192.0.2.128'],
    ])('finds the IPv6 address %s', (ip) => {
      expect(redacted(`host ${ip} is down`)).toBe('host [IP_ADDRESS] is down');
    });

    it('finds a bracketed IPv6 address with a port and one that ends a sentence', () => {
      expect(redacted('http://[2001:db8::1]:8080/')).toBe('http://[[IP_ADDRESS]]:8080/');
      expect(redacted('reach it at 2001:db8::1: it answers')).toBe(
        'reach it at [IP_ADDRESS]: it answers',
      );
    });

    it('leaves times, C++ scopes and hex words', () => {
      expect(typesIn('12:30:45 std::vector deadbeef cafe:babe')).toEqual([]);
    });
  });

  it('gives findings as offsets into the input, in order', () => {
    const text = 'mail a@b.io or call +44 20 7946 0958 from 10.1.2.3';
    const findings = findPii(text);
    expect(findings.map((f) => [f.type, text.slice(f.start, f.end)])).toEqual([
      ['email', 'a@b.io'],
      ['phone', '+44 20 7946 0958'],
      ['ipv4', '10.1.2.3'],
    ]);
    expect(redactPii(text).findings).toEqual(findings);
  });

  it('redacts an address glued to another in one call, as a second call would', () => {
    const text = '2001:db8::1jane.doe@example.com';
    const once = redactPii(text);
    expect(once.text).toBe('[IP_ADDRESS][EMAIL]');
    expect(once.findings.map((f) => text.slice(f.start, f.end))).toEqual([
      '2001:db8::',
      '1jane.doe@example.com',
    ]);
  });

  it('does not take a phone number out of the groups of a longer number', () => {
    expect(typesIn('ref 1234 0207 9460 958')).toEqual([]);
    expect(typesIn('ids 7 415 555 2671')).toEqual([]);
  });

  it('never redacts inside or across a placeholder', () => {
    expect(redactPii('[EMAIL] [PHONE] [NATIONAL_ID] [CARD_NUMBER] [IP_ADDRESS]').findings).toEqual(
      [],
    );
  });

  it('leaves text without PII as it is', () => {
    const text = 'How do I ignore whitespace in git diff? Use `git diff -w` (since 1.5.3).';
    expect(redactPii(text)).toEqual({ text, findings: [] });
  });

  const piiPiece = fc.constantFrom(
    'jane.doe@example.com',
    '+44 20 7946 0958',
    '(415) 555-2671',
    '123-45-6789',
    'AB123456C',
    '1112.22.333',
    '4111 1111 1111 1111',
    '192.168.0.1',
    '2001:db8::1',
    '[EMAIL]',
    '[PHONE]',
  );
  const filler = fc.string({
    unit: fc.constantFrom(
      'a',
      'Z',
      '0',
      '7',
      ' ',
      '.',
      '-',
      ':',
      '@',
      '+',
      '(',
      ')',
      '[',
      ']',
      '\n',
    ),
  });
  const mixed = fc
    .array(fc.oneof(piiPiece, filler), { maxLength: 12 })
    .map((parts) => parts.join(''));

  it('is idempotent: redacting the result again changes nothing', () => {
    fc.assert(
      fc.property(mixed, (text) => {
        const once = redactPii(text).text;
        expect(redactPii(once)).toEqual({ text: once, findings: [] });
      }),
      { numRuns: 2000 },
    );
  });

  it('returns findings that do not overlap and rebuild the output', () => {
    fc.assert(
      fc.property(mixed, (text) => {
        const { text: out, findings } = redactPii(text);
        let rebuilt = '';
        let at = 0;
        for (const f of findings) {
          expect(f.start).toBeGreaterThanOrEqual(at);
          expect(f.end).toBeGreaterThan(f.start);
          rebuilt += text.slice(at, f.start) + '#';
          at = f.end;
        }
        rebuilt += text.slice(at);
        expect(out.replace(/\[(?:EMAIL|PHONE|NATIONAL_ID|CARD_NUMBER|IP_ADDRESS)\]/g, '#')).toBe(
          rebuilt.replace(/\[(?:EMAIL|PHONE|NATIONAL_ID|CARD_NUMBER|IP_ADDRESS)\]/g, '#'),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('finds a piece of PII wherever it stands between ordinary words', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          ['jane.doe@example.com', 'email'],
          ['+44 20 7946 0958', 'phone'],
          ['123-45-6789', 'us-ssn'],
          ['4111 1111 1111 1111', 'card'],
          ['192.168.0.1', 'ipv4'],
          ['2001:db8::1', 'ipv6'],
        ),
        fc.array(fc.constantFrom('the', 'Order', 'is', 'see', 'x1', 'ok.'), { maxLength: 5 }),
        fc.array(fc.constantFrom('the', 'Order', 'is', 'see', 'x1', 'ok.'), { maxLength: 5 }),
        ([pii, type], before, after) => {
          const text = [...before, pii, ...after].join(' ');
          const at = text.indexOf(pii);
          expect(findPii(text)).toEqual([{ type, start: at, end: at + pii.length }]);
        },
      ),
    );
  });

  // Adversarial inputs for backtracking patterns: long runs of the characters each pattern
  // scans, each without a match at its end. A pattern with catastrophic backtracking would not
  // finish within the test's timeout on these; a linear one takes milliseconds.
  it.each([
    ['e-mail local parts', 'a.'.repeat(50_000) + '@'],
    ['domains', 'a@' + 'a-a.'.repeat(40_000) + '-'],
    ['digit groups', '1 '.repeat(100_000) + 'x'],
    ['dashed digits', '12-'.repeat(60_000) + 'x'],
    ['international numbers', '+1 (2) '.repeat(30_000)],
    ['hex and colons', 'a:'.repeat(100_000) + 'g'],
    ['dotted quads', '1.'.repeat(100_000)],
    ['national prefixes', '0' + '12/'.repeat(60_000)],
    ['placeholders', '[EMAIL]1'.repeat(30_000)],
  ])('stays linear on a long run of %s', (_name, text) => {
    const { findings } = redactPii(text);
    expect(Array.isArray(findings)).toBe(true);
  });
});
