import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER, PeriodicJob } from '@lattice/service-runtime';
import { SigningKeys } from './signing-keys.service';

const CHECK_INTERVAL_MS = 3_600_000;

/** Makes sure a signing key exists at start, and replaces it once it reaches its age. */
@Injectable()
export class KeyRotationJob extends PeriodicJob {
  constructor(
    private readonly keys: SigningKeys,
    @Inject(LOGGER) logger: Logger,
  ) {
    super({ intervalMs: CHECK_INTERVAL_MS, logger, failure: 'signing key rotation failed' });
  }

  override async onApplicationBootstrap(): Promise<void> {
    // the service cannot sign without one: a start that fails here fails the service
    await this.keys.ensureFresh();
    await super.onApplicationBootstrap();
  }

  protected run(): Promise<void> {
    return this.keys.ensureFresh();
  }
}
