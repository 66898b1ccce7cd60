import type { FastifyInstance } from 'fastify';

/**
 * Fastify refuses a body over `bodyLimit` without reading it and closes the connection, since
 * the client may still be sending. But a socket closed with unread data is reset by the kernel,
 * and the reset can overtake the 413: the client never sees its answer. Instead the rest of the
 * refused body is read and dropped (bounded by the server's request timeout) and the connection
 * kept, so the client reads the 413 once it has finished sending.
 */
export function answerRefusedBodies(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const raw = request.raw;
    if (reply.statusCode === 413 && !raw.complete) {
      reply.removeHeader('connection');
      raw.unpipe();
      raw.removeAllListeners('data');
      raw.resume();
    }
    done(null, payload);
  });
}
