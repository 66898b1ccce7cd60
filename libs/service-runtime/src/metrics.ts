import { Controller, Get, Header, Injectable, SetMetadata } from '@nestjs/common';
import { ApiExtension, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
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

@ApiTags('health')
@ApiExtension('x-lattice-permission', 'public')
@Controller()
@SetMetadata(PUBLIC_ROUTE, true)
export class MetricsController {
  constructor(private readonly metrics: MetricsRegistry) {}

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'Metrics in the Prometheus text format' })
  @ApiProduces('text/plain')
  @ApiResponse({ status: 200, description: 'Metrics', schema: { type: 'string' } })
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
