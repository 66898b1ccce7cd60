import { z } from 'zod';
import { storableJson, storedText, text } from './text.schema';

export const Uuid = z.uuid();

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: text({ max: 512 }).optional(),
});

export function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: storedText(512).nullable() });
}

/** How deeply a value nests, found without recursion, so no input can overflow the stack. */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 1]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (item === null || typeof item !== 'object') continue;
    deepest = Math.max(deepest, depth);
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * A free-form JSON object with string keys, at most `maxDepth` levels deep and `maxBytes` when
 * serialised, whose strings storage can keep. The depth is checked before anything recurses into
 * the value, so a hostile body nested thousands of levels deep is a validation error, not a
 * stack overflow.
 */
export function jsonObject(
  what: string,
  { maxDepth, maxBytes }: { maxDepth: number; maxBytes: number },
) {
  const Key = text({ min: 1, max: 100 });
  return z
    .record(Key, storableJson(z.unknown()))
    .refine((v) => jsonDepth(v) <= maxDepth, `${what} may nest at most ${maxDepth} levels`)
    .pipe(storableJson(z.record(Key, z.json())))
    .refine(
      (v) => Buffer.byteLength(JSON.stringify(v), 'utf8') <= maxBytes,
      `${what} must serialise to at most ${maxBytes} bytes`,
    );
}

export const HealthReply = z.object({ service: text({ max: 64 }), status: z.literal('ok') });

/** Who makes a call, as vouched for by the gateway's signed context. */
export const Actor = z.object({
  type: z.enum(['user', 'api-key', 'service', 'bootstrap', 'anonymous']),
  id: text({ min: 1, max: 200 }),
  roles: z.array(text({ max: 100 })).max(50),
  /** What the roles (or an API key's scope) allow, resolved when the caller authenticated. */
  permissions: z
    .array(text({ max: 100 }))
    .max(300)
    .optional(),
  /** For an API key, the user or service account it speaks for. */
  ownerId: text({ min: 1, max: 200 }).optional(),
});
export type Actor = z.infer<typeof Actor>;

export const PLATFORM_ADMIN_ROLE = 'platform-admin';
