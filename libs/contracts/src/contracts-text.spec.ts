import { z } from 'zod';
import * as contracts from './index';
import { uncheckedStrings } from './common/text-coverage';
import { storableJson, storedText, text } from './common/text.schema';

const isSchema = (value: unknown): value is z.ZodType => value instanceof z.ZodType;

/** Every exported schema, and every RPC contract's request and reply and stream's message. */
function exportedSchemas(): [string, z.ZodType][] {
  const schemas: [string, z.ZodType][] = [];
  for (const [name, value] of Object.entries(contracts)) {
    if (isSchema(value)) schemas.push([name, value]);
    else if (value && typeof value === 'object') {
      const { request, reply, message } = value as Record<string, unknown>;
      if (isSchema(request)) schemas.push([`${name}.request`, request]);
      if (isSchema(reply)) schemas.push([`${name}.reply`, reply]);
      if (isSchema(message)) schemas.push([`${name}.message`, message]);
    }
  }
  return schemas;
}

describe('text in every contract', () => {
  it('finds the contracts it walks', () => {
    const names = exportedSchemas().map(([name]) => name);
    expect(names).toEqual(
      expect.arrayContaining([
        'TenantsCreate.request',
        'AuthLogin.request',
        'AuditEvents.message',
        'AuditQuery.reply',
      ]),
    );
    expect(names.length).toBeGreaterThan(60);
  });

  it('takes no string that is not the text type or a stricter format', () => {
    const unchecked = exportedSchemas().flatMap(([name, schema]) => uncheckedStrings(schema, name));
    expect(unchecked).toEqual([]);
  });

  it('tells a plain string, free-form JSON and a loose pattern from checked ones', () => {
    const Loose = z.object({
      a: z.string().max(10),
      b: z.array(z.string().regex(/x/)),
      c: z.record(text({ max: 5 }), z.unknown()),
      d: z.json().optional(),
      e: text({ max: 5 }).trim().optional(),
      f: storedText().nullable(),
      g: storableJson(z.record(z.string(), z.json())),
      h: z.email(),
      i: z.string().regex(/^[a-z]+$/),
      j: z.enum(['x']),
    });
    expect(uncheckedStrings(Loose, 'Loose')).toEqual([
      'Loose.a',
      'Loose.b[]',
      'Loose.c{value} (free-form)',
      'Loose.d (free-form)',
    ]);
  });
});
