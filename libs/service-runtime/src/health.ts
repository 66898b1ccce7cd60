import { Controller, Get, HttpCode, Inject, Injectable, Res, SetMetadata } from '@nestjs/common';
import { ApiExtension, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import type { NatsConnection } from 'nats';
import { Gauge } from 'prom-client';
import { MetricsRegistry } from './metrics';
import { NATS_CONNECTION, PUBLIC_ROUTE, SERVICE_NAME } from './tokens';

export type ReadinessCheck = () => Promise<void>;

/** The readiness checks of a service: each names a dependency and throws when it is not usable. */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  private draining = false;

  constructor(@Inject(NATS_CONNECTION) nc: NatsConnection, metrics: MetricsRegistry) {
    this.register('nats', async () => {
      if (nc.isClosed() || nc.isDraining()) throw new Error('connection closed');
      await nc.flush();
    });
    // Each scrape runs the checks as /readyz does, so an alert can name the dependency that fails.
    const evaluate = () => this.evaluate();
    new Gauge({
      name: 'lattice_readiness_check',
      help: 'Whether each readiness check passes (1) or fails (0), by check: database, nats, ...',
      labelNames: ['check'],
      registers: [metrics.registry],
      async collect() {
        const { checks } = await evaluate();
        this.reset();
        for (const [check, result] of Object.entries(checks)) {
          if (check !== 'shutdown') this.set({ check }, result === 'ok' ? 1 : 0);
        }
      },
    });
  }

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  private readonly facts = new Map<string, unknown>();

  /** A fact about how the service runs, shown in `/readyz` under `details` (a fallback in use). */
  detail(name: string, value: unknown): void {
    this.facts.set(name, value);
  }

  details(): Record<string, unknown> | undefined {
    return this.facts.size ? Object.fromEntries(this.facts) : undefined;
  }

  /** From now on the service reports not ready, so load balancers stop sending work. */
  markDraining(): void {
    this.draining = true;
  }

  async evaluate(timeoutMs = 2_000): Promise<{ ready: boolean; checks: Record<string, string> }> {
    const results: Record<string, string> = {};
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) =>
              setTimeout(() => reject(new Error('timed out')), timeoutMs).unref(),
            ),
          ]);
          results[name] = 'ok';
        } catch (error) {
          results[name] = (error as Error).message || 'failed';
        }
      }),
    );
    if (this.draining) results.shutdown = 'draining';
    return { ready: Object.values(results).every((r) => r === 'ok'), checks: results };
  }
}

interface ReplyLike {
  status(code: number): ReplyLike;
  header(name: string, value: string): ReplyLike;
  send(body: unknown): unknown;
}

const HealthReply: SchemaObject = {
  type: 'object',
  required: ['service', 'status'],
  properties: {
    service: { type: 'string' },
    instance: {
      type: 'string',
      description: 'Which start of the service answers (LATTICE_INSTANCE_ID), where one is named',
    },
    status: { type: 'string', enum: ['ok', 'unavailable'] },
    checks: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

@ApiTags('health')
@ApiExtension('x-lattice-permission', 'public')
@Controller()
@SetMetadata(PUBLIC_ROUTE, true)
export class HealthController {
  /**
   * Who answers, where the process was given a name for this start of it: a supervisor that
   * chose the port can tell its own process from another that holds the port.
   */
  private readonly named: { service: string; instance?: string };
  /** The same answer every time. */
  private readonly alive: object;

  constructor(
    private readonly health: HealthRegistry,
    @Inject(SERVICE_NAME) service: string,
  ) {
    const instance = process.env.LATTICE_INSTANCE_ID;
    this.named = instance ? { service, instance } : { service };
    this.alive = { ...this.named, status: 'ok' };
  }

  @Get('livez')
  @HttpCode(200)
  @ApiOperation({ summary: 'Whether the process is up' })
  @ApiResponse({ status: 200, description: 'Up', schema: HealthReply })
  live() {
    return this.alive;
  }

  @Get('readyz')
  @ApiOperation({ summary: 'Whether every dependency answers, each check by name' })
  @ApiResponse({ status: 200, description: 'Ready', schema: HealthReply })
  @ApiResponse({ status: 503, description: 'Not ready, or draining', schema: HealthReply })
  async ready(@Res() reply: ReplyLike) {
    const { ready, checks } = await this.health.evaluate();
    reply
      .status(ready ? 200 : 503)
      .header('content-type', 'application/json')
      .send({
        ...this.named,
        status: ready ? 'ok' : 'unavailable',
        checks,
        ...(this.health.details() ? { details: this.health.details() } : {}),
      });
  }
}
