import { ApiException, type V1Lease } from '@kubernetes/client-node';
import { createLogger } from '@lattice/logging';
import { ManualClock } from '@lattice/testing';
import { LeaderElector, type LeaseStore } from './leader-elector';

const LEASE_SECONDS = 15;

/** The API server's Lease storage: optimistic concurrency on resourceVersion, as it has. */
class FakeLeases implements LeaseStore {
  lease?: V1Lease;
  private version = 0;

  private stored(lease: V1Lease): V1Lease {
    this.lease = structuredClone({
      ...lease,
      metadata: { ...lease.metadata, resourceVersion: String(++this.version) },
    });
    return structuredClone(this.lease);
  }

  async readLease(): Promise<V1Lease | undefined> {
    return this.lease && structuredClone(this.lease);
  }

  async createLease(_namespace: string, lease: V1Lease): Promise<V1Lease> {
    if (this.lease) throw new ApiException(409, 'AlreadyExists', '', {});
    return this.stored(lease);
  }

  async replaceLease(_namespace: string, lease: V1Lease): Promise<V1Lease> {
    if (lease.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion)
      throw new ApiException(409, 'Conflict', '', {});
    return this.stored(lease);
  }

  /** Another replica, whose clock reads `theirNow`, takes or renews the lease. */
  renewAs(holder: string, theirNow: Date): void {
    this.stored({
      ...this.lease,
      metadata: { ...this.lease?.metadata, name: 'lattice-operator' },
      spec: {
        ...this.lease?.spec,
        holderIdentity: holder,
        leaseDurationSeconds: LEASE_SECONDS,
        renewTime: theirNow,
      },
    });
  }
}

function candidate(leases: FakeLeases, clock: ManualClock, identity = 'beta') {
  return new LeaderElector(
    leases,
    {
      namespace: 'lattice-system',
      name: 'lattice-operator',
      identity,
      leaseDurationSeconds: LEASE_SECONDS,
      retryPeriodMs: 2_000,
    },
    clock,
    createLogger('operator', 'silent'),
    () => undefined,
  );
}

describe(LeaderElector.name, () => {
  it('leaves a lease to a holder that keeps renewing, however far behind its clock is', async () => {
    const clock = new ManualClock(new Date('2030-01-01T12:00:00Z'));
    const leases = new FakeLeases();
    const skew = -60 * 60_000; // the holder's clock is an hour behind ours
    const theirs = () => new Date(clock.now().getTime() + skew);
    leases.renewAs('alpha', theirs());
    const beta = candidate(leases, clock);
    for (let second = 0; second < 60; second += 2) {
      await beta.campaign();
      expect(beta.isLeader).toBe(false);
      clock.advance(2_000);
      leases.renewAs('alpha', theirs());
    }
    expect(leases.lease?.spec?.holderIdentity).toBe('alpha');
  });

  it('takes over a lease a lease duration after it last saw it change, however far ahead the holder clock was', async () => {
    const clock = new ManualClock(new Date('2030-01-01T12:00:00Z'));
    const leases = new FakeLeases();
    // the holder's clock is an hour ahead, and it dies right after this renewal
    leases.renewAs('alpha', new Date(clock.now().getTime() + 60 * 60_000));
    const beta = candidate(leases, clock);
    await beta.campaign();
    expect(beta.isLeader).toBe(false);
    clock.advance(LEASE_SECONDS * 1000 - 1);
    await beta.campaign();
    expect(beta.isLeader).toBe(false);
    clock.advance(1);
    await beta.campaign();
    expect(beta.isLeader).toBe(true);
    expect(leases.lease?.spec).toMatchObject({ holderIdentity: 'beta', leaseTransitions: 1 });
  });

  it('counts the lease duration from when it first saw the current record, not from its renewTime', async () => {
    const clock = new ManualClock(new Date('2030-01-01T12:00:00Z'));
    const leases = new FakeLeases();
    // renewed long ago by our clock; a candidate that has just started must still wait
    leases.renewAs('alpha', new Date(clock.now().getTime() - 10 * 60_000));
    const beta = candidate(leases, clock);
    await beta.campaign();
    expect(beta.isLeader).toBe(false);
    clock.advance(LEASE_SECONDS * 1000);
    await beta.campaign();
    expect(beta.isLeader).toBe(true);
  });

  it('takes a released lease at once and renews it while leading', async () => {
    const clock = new ManualClock(new Date('2030-01-01T12:00:00Z'));
    const leases = new FakeLeases();
    const alpha = candidate(leases, clock, 'alpha');
    await alpha.campaign();
    expect(alpha.isLeader).toBe(true);
    const beta = candidate(leases, clock);
    await beta.campaign();
    expect(beta.isLeader).toBe(false);

    clock.advance(2_000);
    await alpha.campaign();
    expect(alpha.isLeader).toBe(true);
    await alpha.stop();
    expect(leases.lease?.spec?.holderIdentity).toBeUndefined();
    await beta.campaign();
    expect(beta.isLeader).toBe(true);
  });
});
