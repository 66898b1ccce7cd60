import { z } from 'zod';

/** A whole number from `min` to `max`, `fallback` where the variable is unset. */
export const integer = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** A number of seconds, at least one and at most `max` (a day unless said). */
export const seconds = (fallback: number, max = 86_400) => integer(1, max, fallback);
