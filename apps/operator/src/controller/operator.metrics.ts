import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the operator exposes on /metrics besides Node's defaults. */
export class OperatorMetrics {
  readonly reconciles: Counter<'result'>;
  readonly duration: Histogram;
  readonly lateness: Histogram;
  readonly statusWrites: Counter<'outcome'>;
  readonly desired: Gauge<'namespace' | 'policy'>;
  readonly current: Gauge<'namespace' | 'policy'>;
  readonly rescales: Counter<'direction'>;
  readonly leader: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.reconciles = new Counter({
      name: 'lattice_operator_reconcile_total',
      help: 'Reconciles of ScalingPolicies, by result (success or error).',
      labelNames: ['result'],
      registers,
    });
    this.duration = new Histogram({
      name: 'lattice_operator_reconcile_duration_seconds',
      help: 'Time to reconcile one ScalingPolicy: read scale and metrics, decide, patch, write status.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.lateness = new Histogram({
      name: 'lattice_operator_reconcile_lateness_seconds',
      help: 'How long after it was due a reconcile of a ScalingPolicy started (its polling interval honoured: near 0).',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.statusWrites = new Counter({
      name: 'lattice_operator_status_writes_total',
      help: 'Status a reconcile arrived at, by outcome: written, or unchanged (and so not written).',
      labelNames: ['outcome'],
      registers,
    });
    this.desired = new Gauge({
      name: 'lattice_operator_desired_replicas',
      help: 'Replicas last decided for each ScalingPolicy.',
      labelNames: ['namespace', 'policy'],
      registers,
    });
    this.current = new Gauge({
      name: 'lattice_operator_current_replicas',
      help: 'Replicas of each ScalingPolicy target when last read.',
      labelNames: ['namespace', 'policy'],
      registers,
    });
    this.rescales = new Counter({
      name: 'lattice_operator_rescale_total',
      help: 'Changes of a target replica count, by direction.',
      labelNames: ['direction'],
      registers,
    });
    this.leader = new Gauge({
      name: 'lattice_operator_leader',
      help: '1 while this replica holds the leader lease and acts, 0 while it stands by.',
      registers,
    });
  }
}
