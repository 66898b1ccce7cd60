import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER, PeriodicJob } from '@lattice/service-runtime';
import { LeaseService } from '../leases/lease.service';
import { RoutingService } from '../routing/routing.service';
import { NodeHealthService } from './node-health.service';

export const SWEEP_INTERVAL_MS = Symbol('SWEEP_INTERVAL_MS');

/**
 * On every replica: nodes that stopped beating leave routing, leases not renewed expire, and
 * the routes given since the last run count in their nodes' caller windows.
 */
@Injectable()
export class HealthSweepJob extends PeriodicJob {
  constructor(
    private readonly health: NodeHealthService,
    private readonly leases: LeaseService,
    private readonly routing: RoutingService,
    @Inject(LOGGER) logger: Logger,
    @Inject(SWEEP_INTERVAL_MS) intervalMs: number,
  ) {
    super({ intervalMs, logger, failure: 'GPU sweep failed; will retry' });
  }

  protected async run(): Promise<void> {
    await this.health.sweep();
    await this.leases.expire();
    await this.routing.flushCalls();
  }
}
