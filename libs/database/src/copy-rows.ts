import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { EntityManager } from 'typeorm';

/** A value as COPY's text format carries it: null is NULL, anything else its text. */
export type CopyValue = string | number | boolean | null;

/** The characters COPY's text format reads as escapes or separators, and how each is written. */
const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * Rows in COPY's text format: fields split by tabs, rows ended by newlines, NULL as `\N`, and
 * a backslash, tab, newline or carriage return inside a value escaped, so a value is read back
 * exactly as it was (the text `\N` included) and never splits a field or a row. Each row is
 * encoded on its own: one string of a whole batch, built by appending, costs several times
 * more to encode than its rows do one by one.
 */
function copyData(rows: readonly (readonly CopyValue[])[]): Buffer {
  const encoded = new Array<Buffer>(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    let line = '';
    for (let i = 0; i < row.length; i++) {
      const value = row[i];
      if (i > 0) line += '\t';
      if (value === null || value === undefined) {
        line += '\\N';
        continue;
      }
      const text = String(value);
      line += SPECIAL.test(text) ? text.replace(SPECIALS, (c) => ESCAPES[c]!) : text;
    }
    encoded[r] = Buffer.from(`${line}\n`, 'utf8');
  }
  return Buffer.concat(encoded);
}

/**
 * Writes rows into `table` with one COPY, on the connection of `em`'s transaction (it needs
 * one: COPY is not undone on its own if what follows fails). PostgreSQL parses COPY's text far
 * faster than a statement's parameters, and the rows travel in one message.
 */
export async function copyRows(
  em: EntityManager,
  table: string,
  columns: readonly string[],
  rows: readonly (readonly CopyValue[])[],
): Promise<void> {
  if (rows.length === 0) return;
  const runner = em.queryRunner;
  if (!runner?.isTransactionActive) throw new Error('copyRows runs inside a transaction');
  const client = (await runner.connect()) as PoolClient;
  await pipeline(
    Readable.from([copyData(rows)]),
    client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`)),
  );
}
