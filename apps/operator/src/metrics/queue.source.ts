import type { NatsConnection, JetStreamManager } from 'nats';
import { SubjectNamespace } from '@lattice/messaging';

/** Reads a JetStream consumer's backlog; the consumer's leader answers the info request. */
export class QueueSource {
  private jsm?: Promise<JetStreamManager>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly ns: SubjectNamespace,
  ) {}

  /** Messages not yet delivered plus delivered but not yet acknowledged. */
  async backlog(stream: string, consumer: string): Promise<number> {
    this.jsm ??= this.nc.jetstreamManager();
    const info = await (
      await this.jsm
    ).consumers.info(this.ns.stream(stream), this.ns.durable(consumer));
    return info.num_pending + info.num_ack_pending;
  }
}
