import { Injectable, type PipeTransform } from '@nestjs/common';
import { validationError } from '@lattice/messaging';
import type { z } from 'zod';

/** Validates (and coerces) a request part against the same schema the contract declares. */
@Injectable()
export class ZodPipe<T extends z.ZodType> implements PipeTransform<unknown, z.output<T>> {
  constructor(private readonly schema: T) {}

  transform(value: unknown): z.output<T> {
    const parsed = this.schema.safeParse(value);
    if (!parsed.success) throw validationError(parsed.error);
    return parsed.data;
  }
}
