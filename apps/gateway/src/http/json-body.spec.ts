import Fastify, { type FastifyInstance } from 'fastify';
import { refuseBodiesThatAreNotUtf8 } from './json-body';

const notUtf8 = Buffer.concat([
  Buffer.from('{"name":"'),
  Buffer.from([0xff, 0xc0]),
  Buffer.from('"}'),
]);

describe('refuseBodiesThatAreNotUtf8', () => {
  let app: FastifyInstance;
  const received: unknown[] = [];

  beforeAll(async () => {
    app = Fastify({ logger: false });
    refuseBodiesThatAreNotUtf8(app);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const)
      app.route({
        method,
        url: '/things',
        handler: async (request) => received.push(request.body),
      });
    app.get('/things', async () => ({ read: true }));
    await app.ready();
  });
  afterAll(() => app.close());

  it.each(['POST', 'PUT', 'PATCH', 'DELETE'] as const)(
    'refuses a %s body that is not UTF-8 before any handler sees it',
    async (method) => {
      const response = await app.inject({
        method,
        url: '/things',
        headers: { 'content-type': 'application/json' },
        payload: notUtf8,
      });
      expect(response.statusCode).toBe(400);
      expect(received).toEqual([]);
    },
  );

  it('passes a UTF-8 body on unchanged', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      payload: Buffer.from('{"name":"Zoë ✓"}'),
    });
    expect(response.statusCode).toBe(200);
    expect(received.splice(0)).toEqual([{ name: 'Zoë ✓' }]);
  });

  it('is a hook of the routes that take a body only: a read passes no hook with nothing to check', () => {
    const hooksOf = (method: string) =>
      app.printRoutes({ method, includeHooks: true, commonPrefix: false });
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'])
      expect(hooksOf(method)).toContain('(preParsing)');
    for (const method of ['GET', 'HEAD']) expect(hooksOf(method)).not.toContain('(preParsing)');
  });
});
