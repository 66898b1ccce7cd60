import { CoordinationV1Api } from '@kubernetes/client-node';
import { eventually } from '@lattice/testing';
import { KubeTestBed, fallbackPolicySpec } from '../../test/operator.test-bed';
import type { Operator } from '../operator.app';

jest.setTimeout(90_000);

const LEASE_SECONDS = 3;
const WAIT = { timeoutMs: 30_000, intervalMs: 200 };

describe('leader election between two operator replicas', () => {
  let bed: KubeTestBed;
  beforeAll(async () => {
    bed = await new KubeTestBed().setUp();
  });
  afterAll(() => bed.tearDown());

  it('one replica acts; when it dies the other takes the lease and carries on', async () => {
    const leases = bed.kc.makeApiClient(CoordinationV1Api);
    const holder = async () =>
      (await leases.readNamespacedLease({ name: 'lattice-operator', namespace: bed.namespace }))
        .spec;
    const alpha = await bed.startOperator({
      identity: 'alpha',
      leaseDurationSeconds: LEASE_SECONDS,
    });
    const beta = await bed.startOperator({ identity: 'beta', leaseDurationSeconds: LEASE_SECONDS });
    const replicas: Record<string, Operator> = { alpha, beta };

    const leaderName = await eventually(async () => {
      const leaders = Object.entries(replicas).filter(([, o]) => o.elector.isLeader);
      expect(leaders).toHaveLength(1);
      expect((await holder())?.holderIdentity).toBe(leaders[0][0]);
      return leaders[0][0];
    }, WAIT);
    const standbyName = leaderName === 'alpha' ? 'beta' : 'alpha';

    // a policy whose metric cannot be read: the acting replica holds the fallback size
    await bed.createDeployment('api', 1);
    await bed.createPolicy('api', fallbackPolicySpec('api', 3));
    await eventually(async () => expect(await bed.replicas('api')).toBe(3), WAIT);
    const rescale = (await bed.events('api')).find((e) => e.reason === 'FallbackActive');
    expect(rescale?.reportingInstance).toBe(leaderName);
    expect(replicas[standbyName].elector.isLeader).toBe(false);
    // every action so far was the leader's: a standby that acted as well would have its events
    const beforeHandOver = await bed.events('api');
    expect(beforeHandOver.length).toBeGreaterThan(0);
    expect(
      beforeHandOver.filter((e) => e.reportingInstance !== leaderName).map((e) => e.reason),
    ).toEqual([]);

    // the leader dies without releasing its lease
    await replicas[leaderName].halt();
    // the lease still names it, renewed for the last time (one clock here, so its renewTime
    // compares with the time the standby acquires the lease)
    const lastRenewal = await holder();
    expect(lastRenewal?.holderIdentity).toBe(leaderName);
    const lastRenewedAt = new Date(lastRenewal!.renewTime!).getTime();
    await bed.editPolicy('api', (spec) => {
      spec.fallback!.replicas = 5;
    });

    await eventually(async () => {
      expect(replicas[standbyName].elector.isLeader).toBe(true);
      expect((await holder())?.holderIdentity).toBe(standbyName);
    }, WAIT);
    await eventually(async () => expect(await bed.replicas('api')).toBe(5), WAIT);
    const lease = await holder();
    expect(lease?.leaseTransitions).toBe(1);
    // taken only once the old holder's last renewal had gone a full lease duration unrenewed
    expect(new Date(lease!.acquireTime!).getTime() - lastRenewedAt).toBeGreaterThanOrEqual(
      LEASE_SECONDS * 1000,
    );
    const events = await bed.events('api');
    // everything done before the standby took the lease was the leader's, up to the halt and
    // after it (event times have whole seconds: those of the second it took it are left out)
    const handOver = Math.floor(new Date(lease!.acquireTime!).getTime() / 1000) * 1000;
    const before = events.filter((e) => new Date(e.firstTimestamp!).getTime() < handOver);
    expect(before.length).toBeGreaterThanOrEqual(beforeHandOver.length);
    expect(before.filter((e) => e.reportingInstance !== leaderName).map((e) => e.reason)).toEqual(
      [],
    );
    expect(
      events.some((e) => e.reason === 'FallbackActive' && e.reportingInstance === standbyName),
    ).toBe(true);
  });
});
