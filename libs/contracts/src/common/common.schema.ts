import { z } from 'zod';

export const Uuid = z.uuid();

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).optional(),
});

export function page<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export const HealthReply = z.object({ service: z.string(), status: z.literal('ok') });

/** Who makes a call, as vouched for by the gateway's signed context. */
export const Actor = z.object({
  type: z.enum(['user', 'api-key', 'service', 'bootstrap', 'anonymous']),
  id: z.string().min(1).max(200),
  roles: z.array(z.string().max(100)).max(50),
  /** What the roles (or an API key's scope) allow, resolved when the caller authenticated. */
  permissions: z.array(z.string().max(100)).max(300).optional(),
  /** For an API key, the user or service account it speaks for. */
  ownerId: z.string().min(1).max(200).optional(),
});
export type Actor = z.infer<typeof Actor>;

export const PLATFORM_ADMIN_ROLE = 'platform-admin';
