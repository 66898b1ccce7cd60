import {
  Body,
  Controller,
  Get,
  Header,
  Injectable,
  Module,
  Param,
  Post,
  Res,
  UseGuards,
  createParamDecorator,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DomainError, ErrorCode } from '@lattice/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest, InjectOptions } from 'fastify';
import pino from 'pino';
import { of } from 'rxjs';
import { z } from 'zod';
import { DirectRoutes, DirectRoutesAdapter } from './direct-routes';
import { ProblemFilter } from './problem.filter';
import { Route } from './route';

const Who = createParamDecorator(
  (_: unknown, context: ExecutionContext) =>
    context.switchToHttp().getRequest<FastifyRequest & { who?: string }>().who,
);

const Thing = z.object({ count: z.coerce.number().int().min(1) }).strict();
const Reply = z.object({}).passthrough();

@Controller('things')
class ThingsController {
  @Post(':name')
  @Route({
    summary: 'Make a thing',
    permission: { action: 'create', resource: 'Tenant' },
    params: { name: z.string().regex(/^[a-z]+$/) },
    body: Thing,
    response: Reply,
    status: 201,
  })
  make(
    @Param('name') name: string,
    @Body() body: z.output<typeof Thing>,
    @Who() who: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    void reply.header('location', `/things/${name}`);
    if (body.count === 7) void reply.status(200);
    return { name, count: body.count, who };
  }

  @Get('open')
  @Header('cache-control', 'no-store')
  @Route({ summary: 'Open to all', permission: 'public', response: Reply })
  open(@Who() who: string | undefined) {
    return { who: who ?? null };
  }

  @Get('raw')
  @Route({ summary: 'Answered through the reply', permission: 'public', response: Reply })
  async raw(@Res() reply: FastifyReply) {
    await new Promise((resolve) => setImmediate(resolve));
    void reply.status(202).send({ later: true });
  }
}

/** Caller checks that record their order, naming the caller or refusing one. */
const seen: string[] = [];
const first: CanActivate = {
  canActivate(context) {
    seen.push('first');
    const request = context.switchToHttp().getRequest<FastifyRequest & { who?: string }>();
    if (request.headers['x-who'] === 'nobody')
      throw new DomainError(ErrorCode.Unauthenticated, 'who are you');
    request.who = String(request.headers['x-who']);
    return true;
  },
};
const second: CanActivate = {
  canActivate: async () => {
    seen.push('second');
    return Promise.resolve(true);
  },
};

async function start(
  controller: new (...args: never[]) => unknown,
  callerChecks: CanActivate[] = [first, second],
): Promise<INestApplication> {
  @Module({ controllers: [controller] })
  class AppModule {}
  const adapter = new DirectRoutesAdapter({ logger: false });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, adapter, {
    logger: false,
  });
  const filter = new ProblemFilter(pino({ level: 'silent' }));
  app.useGlobalFilters(filter);
  await adapter.initWith(app, new DirectRoutes(app, { callerChecks, filter }));
  return app;
}

/** POST /things/:name as the caller named, with the given body. */
const make = (app: INestApplication, who: string, payload: object, name = 'lamp') =>
  inject(app, { method: 'POST', url: `/things/${name}`, headers: { 'x-who': who }, payload });

const inject = (app: INestApplication, options: InjectOptions) =>
  (app.getHttpAdapter().getInstance() as FastifyInstance).inject(options);

describe(DirectRoutes.name, () => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await start(ThingsController);
  });
  afterAll(() => app.close());
  beforeEach(() => seen.splice(0));

  it('runs the caller checks in order, then the handler with its validated arguments', async () => {
    const reply = await make(app, 'ada', { count: '3' });
    expect(seen).toEqual(['first', 'second']);
    expect(reply.statusCode).toBe(201);
    expect(reply.headers.location).toBe('/things/lamp');
    expect(reply.json()).toEqual({ name: 'lamp', count: 3, who: 'ada' });
  });

  it('keeps a status the handler set on a passthrough reply', async () => {
    const reply = await make(app, 'ada', { count: 7 });
    expect(reply.statusCode).toBe(200);
  });

  it('answers what a check, a pipe or a handler throws through the filter, as problem+json', async () => {
    const refused = await make(app, 'nobody', { count: 3 });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(seen).toEqual(['first']);

    const invalid = await make(app, 'ada', { count: 0 }, 'Lamp');
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toMatchObject({ code: ErrorCode.ValidationFailed });
  });

  it('lets a caller through only on a plain yes: a check answering anything else refuses', async () => {
    const unsure = await start(ThingsController, [
      { canActivate: () => of(false) as unknown as boolean },
    ]);
    const reply = await make(unsure, 'ada', { count: 3 });
    expect(reply.statusCode).toBe(403);
    await unsure.close();
  });

  it('runs no caller check for a public route, and sends its declared headers', async () => {
    const reply = await inject(app, { method: 'GET', url: '/things/open' });
    expect(seen).toEqual([]);
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.json()).toEqual({ who: null });
  });

  it('leaves the answer to a handler that takes the reply without passthrough', async () => {
    const reply = await inject(app, { method: 'GET', url: '/things/raw' });
    expect(reply.statusCode).toBe(202);
    expect(reply.json()).toEqual({ later: true });
  });

  it('refuses to start a route that declares what it does not honour', async () => {
    class Never implements CanActivate {
      canActivate() {
        return false;
      }
    }
    @Controller('guarded')
    class GuardedController {
      @Get()
      @UseGuards(Never)
      @Route({ summary: 'Guarded', permission: 'public', response: Reply })
      get() {
        return {};
      }
    }
    await expect(start(GuardedController)).rejects.toThrow(
      'GuardedController.get: @UseGuards (a caller check belongs in callerChecks)',
    );
  });

  it('registers routes added outside the initialisation as they are given', async () => {
    @Injectable()
    class Nothing {}
    @Module({ providers: [Nothing] })
    class EmptyModule {}
    const adapter = new DirectRoutesAdapter({ logger: false });
    const bare = await NestFactory.create<NestFastifyApplication>(EmptyModule, adapter, {
      logger: false,
    });
    adapter.get('/docs', (_request: FastifyRequest, reply: FastifyReply) => {
      void reply.send('documented');
    });
    const filter = new ProblemFilter(pino({ level: 'silent' }));
    await adapter.initWith(bare, new DirectRoutes(bare, { callerChecks: [], filter }));
    expect((await inject(bare, { method: 'GET', url: '/docs' })).body).toBe('documented');
    await bare.close();
  });
});

describe(DirectRoutesAdapter.name, () => {
  it('adds no hook of its own to a request, and refuses the features those hooks served', async () => {
    const app = await start(ThingsController);
    const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
    expect(fastify.printRoutes({ includeHooks: true })).not.toMatch(/onRequest|onResponse/);
    expect(() => (app.getHttpAdapter() as DirectRoutesAdapter).enableCors()).toThrow(/CORS/);
    await app.close();
  });
});
