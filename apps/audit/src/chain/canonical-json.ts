/** A character `JSON.stringify` writes as an escape: a quote, a backslash, a control, a surrogate. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * A string as `JSON.stringify` writes it. Most strings hashed (ids, instants, hashes, sealed
 * values) hold nothing it escapes, and are quoted as they are; any surrogate, even one of a
 * well-formed pair, goes the long way round.
 */
export function jsonString(value: string): string {
  return ESCAPED.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/**
 * One byte-exact JSON text per value: object keys sorted, no whitespace, `undefined` members
 * left out. What was hashed at ingest and what is read back from PostgreSQL (where jsonb
 * reorders keys) serialise the same way, so their hashes agree. Written by appending, without
 * arrays of entries to sort and join: every event's metadata and roles go through it.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'string') return jsonString(value);
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`cannot serialise a ${typeof value}`);
    return text;
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      out += `${i > 0 ? ',' : ''}${item === undefined ? 'null' : canonicalJson(item)}`;
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  // metadata is mostly written in key order already: sorted only when it is not
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      break;
    }
  }
  let out = '';
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    out += `${out ? ',' : '{'}${jsonString(key)}:${canonicalJson(member)}`;
  }
  return out ? `${out}}` : '{}';
}
