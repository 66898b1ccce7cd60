import { createHmac, timingSafeEqual } from 'node:crypto';
import { DomainError, ErrorCode } from '@lattice/contracts';

/**
 * Opaque keyset cursors, signed and bound to the query they came from: a cursor taken from one
 * tenant's list or one set of filters is refused by any other.
 */
export class CursorCodec {
  constructor(private readonly key: Uint8Array) {}

  encode(position: unknown[], binding: unknown): string {
    const body = Buffer.from(JSON.stringify({ p: position, b: this.digest(binding) })).toString(
      'base64url',
    );
    return `${body}.${this.sign(body)}`;
  }

  decode(cursor: string, binding: unknown): unknown[] {
    const invalid = () =>
      new DomainError(ErrorCode.ValidationFailed, 'the cursor is not valid for this query');
    const [body, signature, extra] = cursor.split('.');
    if (!body || !signature || extra !== undefined) throw invalid();
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid();
    const decoded = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as {
      p: unknown[];
      b: string;
    };
    if (decoded.b !== this.digest(binding) || !Array.isArray(decoded.p)) throw invalid();
    return decoded.p;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }

  private digest(binding: unknown): string {
    return createHmac('sha256', this.key)
      .update(JSON.stringify(binding ?? null))
      .digest('base64url')
      .slice(0, 16);
  }
}
