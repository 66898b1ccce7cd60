import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '@lattice/service-runtime';
import { SigningKeys } from './signing-keys.service';

const CHECK_INTERVAL_MS = 3_600_000;

/** Makes sure a signing key exists at start, and replaces it once it reaches its age. */
@Injectable()
export class KeyRotationJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly keys: SigningKeys,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.keys.ensureFresh();
    this.timer = setInterval(() => {
      this.keys
        .ensureFresh()
        .catch((error) => this.logger.error({ err: error }, 'signing key rotation failed'));
    }, CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
