import { z } from 'zod';

/*
 * Every string a contract takes is either one of these text types or a stricter format (a
 * uuid, an enum, an anchored pattern). PostgreSQL text holds neither NUL nor half a surrogate
 * pair, and control characters in names, ids or descriptions serve nobody but an attacker
 * (log injection, terminal escapes, look-alike names), so they are refused at the contract.
 */

/** C0 and C1 controls and DEL; tab and line breaks are told apart below. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex -- as above
const CONTROL_OUTSIDE_MULTILINE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** `String.prototype.isWellFormed` (Node 20), which the ES2022 library typings do not know yet. */
const wellFormed = (value: string): boolean =>
  (value as unknown as { isWellFormed(): boolean }).isWellFormed();

/** True when `value` is well-formed Unicode without the control characters its kind forbids. */
export function isCleanText(value: string, { multiline = false } = {}): boolean {
  return wellFormed(value) && !(multiline ? CONTROL_OUTSIDE_MULTILINE : CONTROL).test(value);
}

/** Text that PostgreSQL can store as it is: no NUL, no lone surrogate. */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && wellFormed(value);
}

const TEXT_MESSAGE = 'must be well-formed Unicode text without control characters';
const MULTILINE_MESSAGE =
  'must be well-formed Unicode text without control characters other than tab and line breaks';
const STORED_MESSAGE = 'must be well-formed Unicode text without NUL characters';

const LINE_CHECK = z.refine<string>((s) => isCleanText(s), TEXT_MESSAGE);
const MULTILINE_CHECK = z.refine<string>((s) => isCleanText(s, { multiline: true }), {
  message: MULTILINE_MESSAGE,
});
const STORED_CHECK = z.refine<string>((s) => isStorableText(s), STORED_MESSAGE);

/** The checks that make a string one of the text types; they survive `.trim()`, `.optional()`... */
const TEXT_CHECKS: ReadonlySet<unknown> = new Set([LINE_CHECK, MULTILINE_CHECK, STORED_CHECK]);

export interface TextOptions {
  /** The most UTF-16 code units it may hold. */
  max: number;
  min?: number;
  /** Free text that may hold tabs and line breaks (a description); names and ids may not. */
  multiline?: boolean;
  /** Leading and trailing white space removed before the bounds are checked. */
  trim?: boolean;
}

/** A bounded, well-formed string without control characters: what every contract takes as text. */
export function text({ max, min, multiline = false, trim = false }: TextOptions) {
  const bounded = (trim ? z.string().trim() : z.string()).max(max);
  return (min === undefined ? bounded : bounded.min(min)).check(
    multiline ? MULTILINE_CHECK : LINE_CHECK,
  );
}

/**
 * Text a service answers with, as it was stored: well-formed and free of NUL (what storage
 * guarantees), but not held to today's stricter rules on control characters, so a value
 * stored by an older version still reads back instead of failing the reply.
 */
export function storedText(max?: number) {
  return (max === undefined ? z.string() : z.string().max(max)).check(STORED_CHECK);
}

/** Whether a string schema carries one of the text checks. */
export function isTextSchema(schema: z.ZodType): boolean {
  const checks = (schema._zod.def as { checks?: unknown[] }).checks ?? [];
  return checks.some((check) => TEXT_CHECKS.has(check));
}

/**
 * Whether a free-form JSON value holds only strings (keys included) that storage can keep:
 * PostgreSQL jsonb refuses `\u0000` as text does. Walked without recursion, so a deeply
 * nested value cannot overflow the stack.
 */
export function isStorableJson(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') {
      if (!isStorableText(item)) return false;
    } else if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) pending.push(item[i]);
    } else if (item !== null && typeof item === 'object') {
      // keys and values read in place: no entry pairs built for every member of every value
      const record = item as Record<string, unknown>;
      for (const key in record) {
        if (!Object.hasOwn(record, key)) continue;
        if (!isStorableText(key)) return false;
        pending.push(record[key]);
      }
    }
  }
  return true;
}

const JSON_CHECK = z.refine(isStorableJson, {
  message: 'strings must be well-formed Unicode without NUL characters',
});

/**
 * Free-form JSON (settings, metadata, a service's answer) whose strings, at any depth, are
 * checked as storage needs them; the contract walk takes it as checked text.
 */
export function storableJson<T extends z.ZodType>(schema: T): T {
  return schema.check(JSON_CHECK as z.core.$ZodCheck<z.output<T>>) as T;
}

/** Whether a schema carries the free-form JSON check, which covers every string inside it. */
export function isStorableJsonSchema(schema: z.ZodType): boolean {
  const checks = (schema._zod.def as { checks?: unknown[] }).checks ?? [];
  return checks.includes(JSON_CHECK);
}

/**
 * Writes the characters a text type refuses as visible escapes (`\u0000`, `\udfff`), for a
 * record that must keep a refused value without carrying it as it was.
 */
export function escapeText(value: string, { multiline = false } = {}): string {
  const forbidden = multiline ? CONTROL_OUTSIDE_MULTILINE : CONTROL;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    const char = value[i]!;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += char + value[i + 1]!;
        i++;
        continue;
      }
    }
    if ((unit >= 0xd800 && unit <= 0xdfff) || forbidden.test(char)) {
      out += `\\u${unit.toString(16).padStart(4, '0')}`;
    } else {
      out += char;
    }
  }
  return out;
}
