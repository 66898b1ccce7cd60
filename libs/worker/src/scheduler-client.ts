import type { NatsConnection, Subscription } from 'nats';
import {
  SchedulerJobCancelled,
  SchedulerJobsComplete,
  SchedulerJobsFail,
  SchedulerJobsHeartbeat,
  SchedulerJobsLease,
  SchedulerJobsProgress,
  SchedulerJobsRelease,
  SchedulerJobsStart,
  SchedulerWorkReady,
  SchedulerWorkersRegister,
  type CompleteJobRequest,
  type FailJobRequest,
  type HeartbeatReply,
  type HeartbeatRequest,
  type JobProgressRequest,
  type JobStateReply,
  type LeaseJobsReply,
  type LeaseJobsRequest,
  type RegisterWorkerRequest,
  type ReleaseJobRequest,
  type WorkerJobRequest,
  type WorkerView,
} from '@lattice/contracts';
import type { Logger } from '@lattice/logging';
import { EventBus, RpcClient, SubjectNamespace } from '@lattice/messaging';
import type { ContextSigner, RequestContext } from '@lattice/request-context';
import { randomUUID } from 'node:crypto';

/** What a worker asks of the scheduler, and hears from it. */
export interface SchedulerClient {
  register(request: RegisterWorkerRequest): Promise<WorkerView>;
  lease(request: LeaseJobsRequest): Promise<LeaseJobsReply>;
  heartbeat(request: HeartbeatRequest): Promise<HeartbeatReply>;
  start(request: WorkerJobRequest): Promise<JobStateReply>;
  progress(request: JobProgressRequest): Promise<JobStateReply>;
  complete(request: CompleteJobRequest): Promise<JobStateReply>;
  fail(request: FailJobRequest): Promise<JobStateReply>;
  release(request: ReleaseJobRequest): Promise<JobStateReply>;
  /** Hears that a held job was cancelled, until the returned function is called. */
  onCancelled(listener: (jobId: string, workerId: string) => void): () => void;
  /** Hears that a queue has work ready, until the returned function is called. */
  onWorkReady(listener: (queue: string) => void): () => void;
}

export interface NatsSchedulerOptions {
  nats: NatsConnection;
  /** The platform's subject namespace (`LATTICE_NAMESPACE`); none when it is not set. */
  namespace?: string;
  /** Signs the worker's own service context (`ContextSigner.fromConfig(service, config)`). */
  signer: ContextSigner;
  /** Who the calls come from: the worker's id, as audit records it. */
  workerId: string;
  logger: Logger;
  /** How long one call may wait for its answer. */
  timeoutMs?: number;
}

/** The scheduler over NATS: signed request/reply calls, and its core-NATS hints. */
export class NatsSchedulerClient implements SchedulerClient {
  private readonly rpc: RpcClient;
  private readonly events: EventBus;
  private readonly timeoutMs: number;

  constructor(private readonly options: NatsSchedulerOptions) {
    const ns = new SubjectNamespace(options.namespace);
    this.rpc = new RpcClient(options.nats, options.signer, ns);
    this.events = new EventBus(options.nats, ns, options.logger);
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  register(request: RegisterWorkerRequest) {
    return this.rpc.request(SchedulerWorkersRegister, request, this.ctx(), this.opts());
  }
  lease(request: LeaseJobsRequest) {
    return this.rpc.request(SchedulerJobsLease, request, this.ctx(), this.opts());
  }
  heartbeat(request: HeartbeatRequest) {
    return this.rpc.request(SchedulerJobsHeartbeat, request, this.ctx(), this.opts());
  }
  start(request: WorkerJobRequest) {
    return this.rpc.request(SchedulerJobsStart, request, this.ctx(), this.opts());
  }
  progress(request: JobProgressRequest) {
    return this.rpc.request(SchedulerJobsProgress, request, this.ctx(), this.opts());
  }
  complete(request: CompleteJobRequest) {
    return this.rpc.request(SchedulerJobsComplete, request, this.ctx(), this.opts());
  }
  fail(request: FailJobRequest) {
    return this.rpc.request(SchedulerJobsFail, request, this.ctx(), this.opts());
  }
  release(request: ReleaseJobRequest) {
    return this.rpc.request(SchedulerJobsRelease, request, this.ctx(), this.opts());
  }

  onCancelled(listener: (jobId: string, workerId: string) => void): () => void {
    return unsubscriber(
      this.events.subscribe(SchedulerJobCancelled, (e) => listener(e.jobId, e.workerId)),
    );
  }

  onWorkReady(listener: (queue: string) => void): () => void {
    return unsubscriber(this.events.subscribe(SchedulerWorkReady, (e) => listener(e.queue)));
  }

  /** Worker processes speak to the scheduler as services, under their own id. */
  private ctx(): RequestContext {
    return {
      tenantId: null,
      actor: { type: 'service', id: this.options.signer.identity, roles: [] },
      requestId: randomUUID(),
    };
  }

  private opts() {
    return { timeoutMs: this.timeoutMs };
  }
}

function unsubscriber(subscription: Subscription): () => void {
  return () => subscription.unsubscribe();
}
