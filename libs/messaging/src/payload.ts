import { JSONCodec } from 'nats';
import type { z } from 'zod';

const json = JSONCodec();

/** A message body checked against its contract; one that is not JSON fails like a wrong shape. */
export function parsePayload<S extends z.ZodType>(data: Uint8Array, schema: S) {
  let decoded: unknown;
  try {
    decoded = json.decode(data);
  } catch {
    decoded = undefined;
  }
  return schema.safeParse(decoded);
}
