import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import { UsageReports } from '@lattice/contracts';
import { DurableConsumer, SubjectNamespace } from '@lattice/messaging';
import { LOGGER, NATS_CONNECTION } from '@lattice/service-runtime';
import { UsageService } from './usage.service';

/** Reads usage reports from the USAGE stream; acks each only after it is committed. */
@Injectable()
export class UsageConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private consumer?: DurableConsumer<typeof UsageReports>;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly ns: SubjectNamespace,
    private readonly usage: UsageService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = new DurableConsumer(this.nc, this.ns, {
      contract: UsageReports,
      durable: 'tenants-usage',
      logger: this.logger,
      handle: async (report) => {
        await this.usage.record(report);
      },
    });
    await this.consumer.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }
}
