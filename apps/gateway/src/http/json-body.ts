import { Transform } from 'node:stream';
import { DomainError, ErrorCode } from '@lattice/contracts';
import type { FastifyInstance } from 'fastify';

const notUtf8 = () =>
  Object.assign(
    new DomainError(ErrorCode.ValidationFailed, 'the request body is not valid UTF-8'),
    {
      statusCode: 400,
    },
  );

/**
 * JSON bodies must be strict UTF-8: the JSON parser turns bytes that are not into U+FFFD
 * without a word, so a name sent with them would be stored changed. The body is checked as
 * it streams in, ahead of the parser (which stays Nest's and Fastify's own).
 */
export function refuseBodiesThatAreNotUtf8(fastify: FastifyInstance): void {
  // a hook that takes `done`: every request passes here, most of them without a body
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
      done(null, payload);
      return;
    }
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const checked = payload.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          try {
            decoder.decode(chunk, { stream: true });
            callback(null, chunk);
          } catch {
            callback(notUtf8());
          }
        },
        flush(callback) {
          try {
            decoder.decode();
            callback();
          } catch {
            callback(notUtf8());
          }
        },
      }),
    );
    done(null, checked);
  });
}
