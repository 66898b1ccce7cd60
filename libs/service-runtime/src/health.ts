import { Controller, Get, HttpCode, Inject, Injectable, Res, SetMetadata } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import { NATS_CONNECTION, PUBLIC_ROUTE, SERVICE_NAME } from './tokens';

export type ReadinessCheck = () => Promise<void>;

/** The readiness checks of a service: each names a dependency and throws when it is not usable. */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  private draining = false;

  constructor(@Inject(NATS_CONNECTION) nc: NatsConnection) {
    this.register('nats', async () => {
      if (nc.isClosed() || nc.isDraining()) throw new Error('connection closed');
      await nc.flush();
    });
  }

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
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

@Controller()
@SetMetadata(PUBLIC_ROUTE, true)
export class HealthController {
  constructor(
    private readonly health: HealthRegistry,
    @Inject(SERVICE_NAME) private readonly service: string,
  ) {}

  @Get('livez')
  @HttpCode(200)
  live() {
    return { service: this.service, status: 'ok' };
  }

  @Get('readyz')
  async ready(@Res() reply: ReplyLike) {
    const { ready, checks } = await this.health.evaluate();
    reply
      .status(ready ? 200 : 503)
      .header('content-type', 'application/json')
      .send({ service: this.service, status: ready ? 'ok' : 'unavailable', checks });
  }
}
