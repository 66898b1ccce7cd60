import { SchedulerQueueDepth } from '@lattice/contracts';
import { type RpcClient } from '@lattice/messaging';
import { serviceContext } from '@lattice/request-context';

/** Reads a Lattice scheduler queue's backlog from the scheduler service over NATS. */
export class SchedulerQueueSource {
  constructor(private readonly rpc: RpcClient) {}

  /** Jobs waiting for a worker plus jobs taken and not yet finished. */
  async backlog(queue: string): Promise<number> {
    const depth = await this.rpc.request(
      SchedulerQueueDepth,
      { queue },
      serviceContext('operator'),
      { timeoutMs: 3_000 },
    );
    return depth.queued + depth.inFlight;
  }
}
