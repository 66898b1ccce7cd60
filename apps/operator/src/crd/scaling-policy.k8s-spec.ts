import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadYaml } from '@kubernetes/client-node';
import { eventually } from '@lattice/testing';
import { KubeTestBed, kubectl } from '../../test/operator.test-bed';
import type { ScalingPolicySpec } from '../policy/scaling-policy.types';

const valid: ScalingPolicySpec = {
  scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
  minReplicas: 1,
  maxReplicas: 5,
  metrics: [
    {
      name: 'jobs',
      type: 'queue',
      queue: { stream: 'JOBS', consumer: 'workers', targetPerReplica: 10 },
    },
  ],
};

/** kubectl wraps descriptions; compare them as one line. */
const flat = (text: string) => text.replace(/\s+/g, ' ');

async function rejection(bed: KubeTestBed, name: string, spec: unknown): Promise<string> {
  try {
    await bed.createPolicy(name, spec as ScalingPolicySpec);
  } catch (error) {
    const body = (error as { body?: unknown }).body;
    return typeof body === 'string'
      ? (JSON.parse(body) as { message: string }).message
      : String(error);
  }
  throw new Error(`the API server accepted ${name}`);
}

jest.setTimeout(60_000);

describe('ScalingPolicy CRD on a real API server', () => {
  let bed: KubeTestBed;
  beforeAll(async () => {
    bed = await new KubeTestBed().setUp();
  });
  afterAll(() => bed.tearDown());

  it('installs, and kubectl explain teaches the behavior block', async () => {
    const text = await eventually(
      async () => {
        const out = flat(await kubectl('explain', 'scalingpolicy.spec.behavior.scaleDown'));
        expect(out).toContain('stabilizationWindowSeconds');
        return out;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(text).toContain('highest recommendation of the window');
    expect(text).toContain('selectPolicy');
    const policies = flat(
      await kubectl('explain', 'scalingpolicy.spec.behavior.scaleUp.policies.type'),
    );
    expect(policies).toContain('Percent: by at most `value` percent');
  });

  it('accepts a valid policy and applies the defaults', async () => {
    await bed.createPolicy('ok', valid);
    const stored = await bed.policy('ok');
    expect(stored.spec).toMatchObject({
      minReplicas: 1,
      pollingIntervalSeconds: 15,
      paused: false,
    });
    const table = await kubectl('get', 'scalingpolicies', '-n', bed.namespace);
    expect(table.split('\n')[0].split(/\s+/)).toEqual(
      expect.arrayContaining(['TARGET', 'MIN', 'MAX', 'CURRENT', 'DESIRED', 'METRICS', 'AGE']),
    );
    expect(table).toMatch(/ok\s+api\s+1\s+5/);
  });

  it.each(
    readdirSync(join(__dirname, '../../../../k8s/examples')).filter(
      (f) => f !== 'kustomization.yaml',
    ),
  )('accepts the example policy %s', async (file) => {
    const example = loadYaml<{ metadata: { name: string }; spec: ScalingPolicySpec }>(
      readFileSync(join(__dirname, '../../../../k8s/examples', file), 'utf8'),
    );
    await bed.createPolicy(example.metadata.name, example.spec);
    expect((await bed.policy(example.metadata.name)).spec.maxReplicas).toBe(
      example.spec.maxReplicas,
    );
  });

  it('rejects minReplicas above maxReplicas', async () => {
    expect(await rejection(bed, 'inverted', { ...valid, minReplicas: 6 })).toContain(
      'minReplicas must not exceed maxReplicas',
    );
  });

  it('rejects an unknown metric type and a type without its settings', async () => {
    const unknown = await rejection(bed, 'unknown', {
      ...valid,
      metrics: [{ name: 'mem', type: 'memory' }],
    });
    expect(unknown).toContain('Unsupported value: "memory"');
    const missing = await rejection(bed, 'missing', {
      ...valid,
      metrics: [{ name: 'c', type: 'cpu' }],
    });
    expect(missing).toContain('set cpu exactly when type is cpu');
  });

  it('rejects a queue that mixes or lacks the fields of its source', async () => {
    const queue = (settings: Record<string, unknown>) => ({
      ...valid,
      metrics: [{ name: 'jobs', type: 'queue', queue: { targetPerReplica: 5, ...settings } }],
    });
    const message = 'a Scheduler queue needs name (and no stream or consumer)';
    expect(await rejection(bed, 'sched-no-name', queue({ source: 'Scheduler' }))).toContain(
      message,
    );
    expect(
      await rejection(
        bed,
        'sched-mixed',
        queue({ source: 'Scheduler', name: 'embeddings', stream: 'JOBS' }),
      ),
    ).toContain(message);
    expect(await rejection(bed, 'js-no-consumer', queue({ stream: 'JOBS' }))).toContain(message);
    expect(
      await rejection(bed, 'sched-bad-name', queue({ source: 'Scheduler', name: 'Not A Queue' })),
    ).toContain('should match');
  });

  it('rejects a gate on a metric the policy does not have, and scale-to-zero without a queue', async () => {
    const gate = await rejection(bed, 'gate', {
      ...valid,
      metrics: [{ ...valid.metrics[0], activeWhen: [{ metric: 'vram', above: 80 }] }],
    });
    expect(gate).toContain('activeWhen must name another metric of this policy');
    const zero = await rejection(bed, 'zero', {
      ...valid,
      minReplicas: 0,
      metrics: [{ name: 'c', type: 'cpu', cpu: { targetUtilization: 50 } }],
    });
    expect(zero).toContain('minReplicas 0 needs a queue metric');
  });
});
