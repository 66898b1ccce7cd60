import type { GpuNodeHeartbeat } from '@lattice/contracts';
import type { Clock } from '@lattice/service-runtime';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { GpuSourceError, type GpuSource } from '../sources/gpu-source';

export interface HeartbeatOptions {
  intervalMs: number;
  /** The node's name when configured; otherwise the source's host label, then `fallbackName`. */
  nodeName?: string;
  /** The Kubernetes node (NODE_NAME). */
  kubeNode?: string;
  /** NODE_NAME or the host name: the name until the source says its own. */
  fallbackName: string;
}

/** Sends a heartbeat; throws when it cannot (a heartbeat outside its contract, NATS closed). */
export type HeartbeatSink = (heartbeat: GpuNodeHeartbeat) => void;

/**
 * One beat of the agent: read the node's GPUs, publish what was read. A source that cannot be
 * read still gives a heartbeat, with no GPUs and the reason, so the GPU-node service can tell a
 * node whose exporter is down from a node that is gone.
 */
export class HeartbeatService {
  private host: string | undefined;
  private sourceDown = false;
  private readonly sourceUp: Gauge;
  private readonly gpus: Gauge;
  private readonly beats: Counter<'outcome'>;

  constructor(
    private readonly source: GpuSource,
    private readonly send: HeartbeatSink,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: HeartbeatOptions,
    registry: Registry,
  ) {
    this.sourceUp = new Gauge({
      name: 'lattice_gpu_agent_source_up',
      help: 'Whether the last read of the GPU source (DCGM exporter or nvidia-smi) succeeded.',
      registers: [registry],
    });
    this.gpus = new Gauge({
      name: 'lattice_gpu_agent_gpus',
      help: 'GPUs in the last heartbeat, by whether they are lost.',
      labelNames: ['lost'],
      registers: [registry],
    });
    this.beats = new Counter({
      name: 'lattice_gpu_agent_heartbeats_total',
      help: 'Heartbeats by outcome: published, source-error (published without GPUs), failed.',
      labelNames: ['outcome'],
      registers: [registry],
    });
  }

  /** The node name heartbeats carry now. */
  get node(): string {
    return this.options.nodeName ?? this.host ?? this.options.fallbackName;
  }

  async beat(): Promise<GpuNodeHeartbeat> {
    const heartbeat = await this.read();
    try {
      this.send(heartbeat);
      this.beats.inc({ outcome: heartbeat.sourceError ? 'source-error' : 'published' });
    } catch (error) {
      this.beats.inc({ outcome: 'failed' });
      this.logger.error({ err: error, node: heartbeat.node }, 'GPU heartbeat not published');
    }
    return heartbeat;
  }

  private async read(): Promise<GpuNodeHeartbeat> {
    const base = {
      kubeNode: this.options.kubeNode ?? null,
      source: this.source.kind,
      intervalMs: this.options.intervalMs,
    };
    try {
      const snapshot = await this.source.read();
      if (snapshot.host) this.host = snapshot.host;
      if (this.sourceDown)
        this.logger.info({ source: this.source.kind }, 'GPU source readable again');
      this.sourceDown = false;
      this.sourceUp.set(1);
      this.gpus.set({ lost: 'false' }, snapshot.gpus.filter((g) => !g.lost).length);
      this.gpus.set({ lost: 'true' }, snapshot.gpus.filter((g) => g.lost).length);
      return {
        ...base,
        node: this.node,
        driverVersion: snapshot.driverVersion,
        sampledAt: this.clock.now().toISOString(),
        gpus: snapshot.gpus,
        sourceError: null,
      };
    } catch (error) {
      const reason =
        error instanceof GpuSourceError
          ? error.message
          : `reading the GPUs failed: ${String(error)}`;
      if (!this.sourceDown) {
        this.logger.warn({ source: this.source.kind, reason }, 'GPU source unreadable');
      }
      this.sourceDown = true;
      this.sourceUp.set(0);
      this.gpus.reset();
      return {
        ...base,
        node: this.node,
        driverVersion: null,
        sampledAt: this.clock.now().toISOString(),
        gpus: [],
        sourceError: reason.slice(0, 1_000),
      };
    }
  }
}
