import {
  SchedulerWorkersDrain,
  SchedulerWorkersDrainState,
  SchedulerWorkersUndrain,
  type DrainWorkersRequest,
  type WorkerDrainStates,
} from '@lattice/contracts';
import type { RpcClient } from '@lattice/messaging';
import { serviceContext } from '@lattice/request-context';

const TIMEOUT = { timeoutMs: 5_000 };

/** The scheduler's drain calls, as the operator makes them. */
export class SchedulerDrains {
  constructor(private readonly rpc: RpcClient) {}

  drain(request: DrainWorkersRequest): Promise<WorkerDrainStates> {
    return this.rpc.request(SchedulerWorkersDrain, request, serviceContext('operator'), TIMEOUT);
  }

  state(workers: string[]): Promise<WorkerDrainStates> {
    return this.rpc.request(
      SchedulerWorkersDrainState,
      { workers },
      serviceContext('operator'),
      TIMEOUT,
    );
  }

  undrain(workers: string[]): Promise<WorkerDrainStates> {
    return this.rpc.request(
      SchedulerWorkersUndrain,
      { workers },
      serviceContext('operator'),
      TIMEOUT,
    );
  }
}
