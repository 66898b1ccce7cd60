import { z } from 'zod';
import { isStorableJsonSchema, isTextSchema } from './text.schema';

/**
 * Every place in a schema where a string is taken without the text checks or a stricter
 * format: plain `z.string()`s, and free-form values (`z.unknown()`, `z.json()`, `z.any()`)
 * whose strings nothing checks. Each is named by its path from the root, for the test that
 * holds every contract to the text type.
 */
export function uncheckedStrings(root: z.ZodType, name: string): string[] {
  const found: string[] = [];
  const seen = new Set<z.ZodType>();
  const pending: [z.ZodType, string][] = [[root, name]];
  while (pending.length > 0) {
    const [schema, path] = pending.pop()!;
    if (seen.has(schema)) continue;
    seen.add(schema);
    // free-form JSON checked as a whole covers every string within
    if (isStorableJsonSchema(schema)) continue;
    const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
    const push = (child: unknown, where: string) => pending.push([child as z.ZodType, where]);
    switch (def.type) {
      case 'string':
        if (!isTextSchema(schema) && !isFormat(def)) found.push(path);
        break;
      case 'unknown':
      case 'any':
        found.push(`${path} (free-form)`);
        break;
      case 'object':
        for (const [key, child] of Object.entries(def.shape as Record<string, z.ZodType>))
          push(child, `${path}.${key}`);
        if (def.catchall) push(def.catchall, `${path}.*`);
        break;
      case 'array':
        push(def.element, `${path}[]`);
        break;
      case 'record':
        push(def.keyType, `${path}{key}`);
        push(def.valueType, `${path}{value}`);
        break;
      case 'tuple':
        (def.items as z.ZodType[]).forEach((item, i) => push(item, `${path}[${i}]`));
        if (def.rest) push(def.rest, `${path}[...]`);
        break;
      case 'union':
        (def.options as z.ZodType[]).forEach((option, i) => push(option, `${path}|${i}`));
        break;
      case 'intersection':
        push(def.left, path);
        push(def.right, path);
        break;
      case 'pipe':
        push(def.in, path);
        push(def.out, path);
        break;
      case 'lazy':
        // z.json() and other recursive types: free-form unless checked as a whole (above)
        found.push(`${path} (free-form)`);
        break;
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'catch':
      case 'readonly':
      case 'nonoptional':
        push(def.innerType, path);
        break;
      default:
        // numbers, booleans, enums, literals, dates, transforms: no free text
        break;
    }
  }
  return found.sort();
}

/** A string format (uuid, email, datetime, ip) or a pattern anchored at both ends. */
function isFormat(def: Record<string, unknown>): boolean {
  if (typeof def.format === 'string' && def.format !== 'regex') return true;
  const checks = (def.checks as { _zod: { def: Record<string, unknown> } }[] | undefined) ?? [];
  return checks.some(({ _zod: { def: check } }) => {
    if (check.check !== 'string_format') return false;
    if (check.format !== 'regex') return true;
    const source = (check.pattern as RegExp).source;
    return source.startsWith('^') && source.endsWith('$');
  });
}
