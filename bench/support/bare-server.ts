/**
 * The baselines of `npm run bench`, each in a process of its own as the gateway is, so that
 * no baseline shares an event loop with the load generator:
 *
 * - BARE_MODE=http: a bare Fastify server answering `/livez` as the gateway does (the body in
 *   BENCH_LIVEZ_BODY),
 *   `/v1/tenants/:id` with the body in BENCH_BODY, `/in-process/:id` with that body from an
 *   async call in the process, and `/nats/:id` with that body from a bare NATS responder
 *   (request/reply on BENCH_SUBJECT at NATS_URL, the reply parsed as the gateway parses one).
 * - BARE_MODE=responder: that bare NATS responder, answering every request with BENCH_BODY.
 *
 * Prints `ready <port>` (the responder: `ready 0`) once it serves. Nothing but the benches
 * starts it.
 */
import Fastify from 'fastify';
import { connect } from 'nats';

const body = JSON.parse(process.env.BENCH_BODY ?? '{}') as Record<string, unknown>;
const livez = JSON.parse(
  process.env.BENCH_LIVEZ_BODY ?? '{"service":"gateway","status":"ok"}',
) as Record<string, unknown>;
const subject = process.env.BENCH_SUBJECT ?? 'bench.bare';
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

async function responder(): Promise<void> {
  const nc = await connect({ servers: natsUrl, name: 'bench-bare-responder' });
  const reply = new TextEncoder().encode(JSON.stringify({ response: body }));
  nc.subscribe(subject, { callback: (_error, msg) => msg.respond(reply) });
  await nc.flush();
  process.stdout.write('ready 0\n');
  process.once('SIGTERM', () => void nc.drain().then(() => process.exit(0)));
}

async function http(): Promise<void> {
  const nc = await connect({ servers: natsUrl, name: 'bench-bare-http' });
  const answer = async (id: string) => ({ ...body, id });
  const bare = Fastify({ logger: false });
  bare.get('/livez', async () => livez);
  bare.get('/v1/tenants/:id', async () => body);
  bare.get<{ Params: { id: string } }>('/in-process/:id', (request) => answer(request.params.id));
  bare.get<{ Params: { id: string } }>('/nats/:id', async (request) => {
    const msg = await nc.request(subject, JSON.stringify({ id: request.params.id }), {
      timeout: 5_000,
    });
    const packet = JSON.parse(Buffer.from(msg.data).toString('utf8')) as { response: object };
    return { ...packet.response, id: request.params.id };
  });
  await bare.listen({ host: '127.0.0.1', port: 0 });
  const address = bare.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`ready ${port}\n`);
  process.once(
    'SIGTERM',
    () =>
      void bare
        .close()
        .then(() => nc.drain())
        .then(() => process.exit(0)),
  );
}

(process.env.BARE_MODE === 'responder' ? responder() : http()).catch((error: unknown) => {
  console.error('bench bare server: could not start', error);
  process.exit(1);
});
