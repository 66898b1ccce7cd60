import { Transform } from 'node:stream';
import { DomainError, ErrorCode } from '@lattice/contracts';
import type { FastifyInstance, preParsingHookHandler } from 'fastify';
import { listOf, takesBody } from './route-hooks';

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
 * it streams in, ahead of the parser (which stays Nest's and Fastify's own). The check is a
 * hook of each route that takes a body, added as the route is declared: Fastify reads no body
 * for GET, HEAD and TRACE, and their requests (probes, reads) pass no hook with nothing to check.
 */
export function refuseBodiesThatAreNotUtf8(fastify: FastifyInstance): void {
  // a hook that takes `done` rather than returning a promise: it waits for nothing
  const check: preParsingHookHandler = (request, _reply, payload, done) => {
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
  };
  fastify.addHook('onRoute', (route) => {
    if (takesBody(route.method)) route.preParsing = [check, ...listOf(route.preParsing)];
  });
}
