import type { V1Lease } from '@kubernetes/client-node';
import type { Logger } from '@lattice/logging';
import type { Clock } from '@lattice/service-runtime';
import { isConflict, type KubeGateway } from '../kube/kube.gateway';

/** The Lease calls leader election makes. */
export type LeaseStore = Pick<KubeGateway, 'readLease' | 'createLease' | 'replaceLease'>;

/**
 * A Lease's times are MicroTime, which the API server parses with exactly six fractional
 * digits; the client would send a Date with three, so the string is sent as is.
 */
function microTime(at: Date): Date {
  return at.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') as unknown as Date;
}

/**
 * A leader that has not renewed for this fraction of the lease steps down, so it has stopped
 * acting before another replica can take the lease (client-go: 10 s of 15 s).
 */
const RENEW_DEADLINE = (2 / 3) * 1000;

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  /** How long a lease holds without renewal; a dead leader is replaced after at most this. */
  leaseDurationSeconds: number;
  /** How often to try to take or renew the lease. */
  retryPeriodMs: number;
}

/** The lease record as last seen, and when this replica saw it change (its own clock). */
interface Observation {
  record: string;
  holder?: string;
  durationMs: number;
  at: number;
}

function recordOf(spec: NonNullable<V1Lease['spec']>): string {
  const time = (t: unknown) => (t ? new Date(t as string).getTime() : null);
  return JSON.stringify([
    spec.holderIdentity ?? '',
    spec.leaseDurationSeconds ?? null,
    time(spec.acquireTime),
    time(spec.renewTime),
    spec.leaseTransitions ?? null,
  ]);
}

/**
 * Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does it: the
 * holder renews the lease; a candidate takes it once the record has stayed unchanged for
 * `leaseDurationSeconds` as measured by the candidate's own clock since it saw the record
 * change, so clock skew between replicas cannot hand the lease over early or late. Every write
 * carries the resourceVersion it read, so two candidates cannot both win. Stepping down
 * releases the lease, so a graceful handover is immediate.
 */
export class LeaderElector {
  private leading = false;
  private timer?: NodeJS.Timeout;
  private lastRenew = 0;
  private stopped = false;
  private attempt?: Promise<void>;
  private observed?: Observation;

  constructor(
    private readonly kube: LeaseStore,
    private readonly options: LeaderElectionOptions,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly onChange: (leading: boolean) => void,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    this.tick();
  }

  private tick(): void {
    if (this.stopped) return;
    this.attempt = this.campaign().finally(() => {
      if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.options.retryPeriodMs);
    });
  }

  /** One round: take or renew the lease, and step down when renewing has failed too long. */
  async campaign(): Promise<void> {
    try {
      await this.tryAcquireOrRenew();
    } catch (error) {
      this.logger.warn({ err: error }, 'leader election attempt failed');
    }
    if (
      this.leading &&
      this.clock.now().getTime() - this.lastRenew >
        this.options.leaseDurationSeconds * RENEW_DEADLINE
    ) {
      // could not renew in time: another replica may hold the lease by now
      this.setLeading(false);
    }
  }

  private observe(spec: NonNullable<V1Lease['spec']>, at: number): void {
    const record = recordOf(spec);
    if (this.observed?.record === record) return;
    this.observed = {
      record,
      holder: spec.holderIdentity || undefined,
      durationMs: (spec.leaseDurationSeconds ?? this.options.leaseDurationSeconds) * 1000,
      at,
    };
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { namespace, name, identity, leaseDurationSeconds } = this.options;
    const now = this.clock.now();
    const lease = await this.kube.readLease(namespace, name);
    if (!lease) {
      const created = await this.kube
        .createLease(namespace, {
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        })
        .catch((error: unknown) => {
          // another replica created it first: it leads
          if (isConflict(error)) return undefined;
          throw error;
        });
      if (created) {
        this.observe(created.spec ?? {}, this.clock.now().getTime());
        this.confirm(now);
      }
      return;
    }
    const spec = lease.spec ?? {};
    // renewTime is the holder's clock, not ours: a lease has expired once its record has stayed
    // unchanged for its duration since this replica saw it change
    this.observe(spec, this.clock.now().getTime());
    const { holder, durationMs, at } = this.observed!;
    const expired = !holder || now.getTime() >= at + durationMs;
    if (holder !== identity && !expired) {
      if (this.leading) this.setLeading(false);
      return;
    }
    const next: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds,
        renewTime: microTime(now),
        ...(holder === identity
          ? {}
          : { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
      },
    };
    try {
      const written = await this.kube.replaceLease(namespace, next);
      this.observe(written.spec ?? next.spec!, this.clock.now().getTime());
      this.confirm(now);
    } catch (error) {
      if (!isConflict(error)) throw error;
      // someone else wrote the lease since we read it; try again next period
    }
  }

  private confirm(at: Date): void {
    this.lastRenew = at.getTime();
    if (!this.leading) {
      this.logger.info(
        {
          lease: `${this.options.namespace}/${this.options.name}`,
          identity: this.options.identity,
        },
        'became leader',
      );
      this.setLeading(true);
    }
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    if (!leading) this.logger.warn({ identity: this.options.identity }, 'stopped leading');
    this.onChange(leading);
  }

  /**
   * Stops campaigning. A leader releases the lease so another replica takes over at once,
   * unless `release` is false (as when a process dies: the lease then runs out).
   */
  async stop({ release = true }: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.attempt;
    if (!this.leading) return;
    this.setLeading(false);
    if (!release) return;
    const { namespace, name, identity } = this.options;
    const lease = await this.kube.readLease(namespace, name).catch(() => undefined);
    if (lease?.spec?.holderIdentity !== identity) return;
    await this.kube
      .replaceLease(namespace, {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: undefined,
          leaseDurationSeconds: 1,
          renewTime: microTime(this.clock.now()),
        },
      })
      .catch((error: unknown) => this.logger.warn({ err: error }, 'could not release the lease'));
  }
}
