import { Controller, Get, Header, Injectable, SetMetadata } from '@nestjs/common';
import { PUBLIC_ROUTE } from './tokens';
import { Registry, collectDefaultMetrics } from 'prom-client';

/** One Prometheus registry per service process, with Node's default metrics. */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

@Controller()
@SetMetadata(PUBLIC_ROUTE, true)
export class MetricsController {
  constructor(private readonly metrics: MetricsRegistry) {}

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
