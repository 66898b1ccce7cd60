import { request, type RequestOptions } from 'node:https';
import { AckPolicy, JSONCodec, type NatsConnection } from 'nats';
import { startControlPlane, type KubeControlPlane } from '@lattice/kube-test-env';
import { SubjectNamespace, connectNats, ensureStream } from '@lattice/messaging';
import { stream } from '@lattice/contracts';
import { eventually, testNamespace, testNatsUrl } from '@lattice/testing';
import { KubeTestBed, policySpec } from '../../test/operator.test-bed';

// a control plane of this file's own, so its request counts are this operator's alone
jest.setTimeout(180_000);

const WAIT = { timeoutMs: 60_000, intervalMs: 200 };
const json = JSONCodec();

/**
 * What the operator asks of the API server when nothing changes: nothing. Counted by the API
 * server itself (apiserver_request_total), on a control plane only this operator uses.
 */
describe('the operator at steady state', () => {
  const prefix = testNamespace();
  const ns = new SubjectNamespace(prefix);
  const jobs = stream('JOBS', ['jobs.>']);
  let plane: KubeControlPlane;
  let bed: KubeTestBed;
  let nc: NatsConnection;

  beforeAll(async () => {
    plane = await startControlPlane();
    bed = await new KubeTestBed(plane).setUp();
    nc = await connectNats(testNatsUrl(), 'operator-steady-state-test');
    await ensureStream(nc, ns, jobs);
    const jsm = await nc.jetstreamManager();
    for (const consumer of ['steady', 'other']) {
      await jsm.consumers.add(ns.stream(jobs.name), {
        durable_name: ns.durable(consumer),
        ack_policy: AckPolicy.Explicit,
        filter_subject: ns.subject(`jobs.${consumer}`),
      });
    }
  });
  afterAll(async () => {
    await bed?.tearDown();
    await nc?.drain();
    await plane?.stop();
  });

  /** The API server's request totals, by verb and resource (with subresource). */
  async function apiRequests(): Promise<Map<string, number>> {
    const url = new URL('/metrics', plane.server);
    const options: RequestOptions = { hostname: url.hostname, port: url.port, path: url.pathname };
    await bed.kc.applyToHTTPSOptions(options);
    const text = await new Promise<string>((done, fail) => {
      request(options, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => done(body));
      })
        .on('error', fail)
        .end();
    });
    const counts = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (!line.startsWith('apiserver_request_total{')) continue;
      const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(line)?.[1] ?? '';
      const sub = label('subresource');
      const key = `${label('verb')} ${label('resource')}${sub ? `/${sub}` : ''}`;
      counts.set(key, (counts.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
    }
    return counts;
  }

  /**
   * Requests made between two readings for what the operator may touch besides its lease
   * (the API server's own bookkeeping of endpoints and leases goes on meanwhile), watches
   * left out; with `writesOnly`, reads too, which the test itself makes.
   */
  function made(before: Map<string, number>, after: Map<string, number>, writesOnly = false) {
    const operators = /^(scalingpolicies|deployments|statefulsets|replicasets|pods|events)\b/;
    return [...after]
      .filter(([key, n]) => n > (before.get(key) ?? 0))
      .map(([key]) => key.split(' '))
      .filter(([, resource]) => operators.test(resource))
      .filter(([verb]) => verb !== 'WATCH' && !(writesOnly && ['GET', 'LIST'].includes(verb)))
      .map((parts) => parts.join(' '))
      .sort();
  }

  it('reconciles every interval and writes, reads and records nothing until something changes', async () => {
    // each reconcile of a policy asks for the info of its own consumer, and only it does
    const reconciles = { steady: 0, other: 0 };
    for (const consumer of ['steady', 'other'] as const) {
      const sub = nc.subscribe(
        `$JS.API.CONSUMER.INFO.${ns.stream(jobs.name)}.${ns.durable(consumer)}`,
      );
      void (async () => {
        for await (const _ of sub) reconciles[consumer]++;
      })();
    }
    for (const name of ['steady', 'other'] as const) {
      await bed.createDeployment(name, 2);
      await bed.createPolicy(
        name,
        policySpec(name, {
          metrics: [
            {
              name: 'jobs',
              type: 'queue',
              queue: { stream: 'JOBS', consumer: name, targetPerReplica: 10 },
            },
          ],
          behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
        }),
      );
    }
    await bed.startOperator({ natsPrefix: prefix, identity: 'steady' });
    // an empty queue: down to the minimum of one, with status and an Event saying so
    for (const name of ['steady', 'other']) {
      await eventually(async () => {
        expect(await bed.replicas(name)).toBe(1);
        expect((await bed.policy(name)).status?.currentReplicas).toBe(1);
      }, WAIT);
    }
    const events = (await bed.events('steady')).map((e) => e.reason);
    expect(events).toContain('SuccessfulRescale');
    // one more reconcile of each has seen what the last wrote
    const settled = { ...reconciles };
    await eventually(() => {
      expect(reconciles.steady).toBeGreaterThan(settled.steady + 1);
      expect(reconciles.other).toBeGreaterThan(settled.other + 1);
    }, WAIT);

    const before = await apiRequests();
    const seen = { ...reconciles };
    await eventually(() => {
      expect(reconciles.steady).toBeGreaterThanOrEqual(seen.steady + 3);
      expect(reconciles.other).toBeGreaterThanOrEqual(seen.other + 3);
    }, WAIT);
    expect(made(before, await apiRequests())).toEqual([]);
    expect((await bed.events('steady')).map((e) => e.reason)).toEqual(events);

    // a change is written at once, for the policy it concerns
    const quiet = await apiRequests();
    const js = nc.jetstream();
    for (let i = 0; i < 4; i++) await js.publish(ns.subject('jobs.steady'), json.encode({ i }));
    await eventually(async () => {
      const status = (await bed.policy('steady')).status;
      expect(status?.currentMetrics?.[0]).toMatchObject({ value: 4, proposal: 1 });
    }, WAIT);
    expect(made(quiet, await apiRequests(), true)).toEqual(['PATCH scalingpolicies/status']);
    expect(await bed.replicas('steady')).toBe(1);
  });
});
