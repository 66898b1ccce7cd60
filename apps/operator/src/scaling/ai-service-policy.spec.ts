import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadYaml } from '@kubernetes/client-node';
import type { ScalingPolicySpec } from '../policy/scaling-policy.types';
import { decide, type GpuSample, type MetricInput } from './autoscaler';
import { emptyHistory, resolveBehavior } from './behavior';

/**
 * The documented rule "scale the AI service when GPU > 90 % or free VRAM < 2 GB", as the example
 * policy k8s/examples/ai-service-vram.yaml writes it, judged on the samples the GPU-node service
 * answers `gpu.v1.memory.query` with (used and free MiB per GPU, from its agents' DCGM readings).
 */
const example = loadYaml<{ spec: ScalingPolicySpec }>(
  readFileSync(join(__dirname, '../../../../k8s/examples/ai-service-vram.yaml'), 'utf8'),
).spec;

/** A V100's frame buffer as the service reports it: used and free, the driver's share aside. */
const v100 = (usedMiB: number, usableMiB = 32_000): GpuSample => ({
  usedMiB,
  freeMiB: usableMiB - usedMiB,
});

function desired(current: number, gpus: GpuSample[]): number {
  const metrics: MetricInput[] = example.metrics.map((m) => ({
    name: m.name,
    type: 'gpuMemory',
    observation: {
      type: 'gpuMemory',
      measure: m.gpuMemory!.measure,
      aggregation: m.gpuMemory!.aggregation ?? 'Average',
      target: m.gpuMemory!.target,
      gpus,
      pods: { total: current, ready: current },
    },
  }));
  return decide({
    policy: {
      minReplicas: example.minReplicas ?? 1,
      maxReplicas: example.maxReplicas,
      behavior: resolveBehavior(example.behavior),
    },
    currentReplicas: current,
    metrics,
    history: emptyHistory(),
    failures: 0,
    now: Date.parse('2026-12-01T12:00:00Z'),
  }).desiredReplicas;
}

describe('the example policy "GPU > 90 % or free VRAM < 2 GB"', () => {
  it('holds the service while every GPU is under 90 % and has 2 GB free', () => {
    expect(desired(2, [v100(19_200), v100(22_400)])).toBe(2);
  });

  it('scales up when one GPU passes 90 % of its memory', () => {
    expect(desired(2, [v100(19_200), v100(30_400)])).toBe(3);
  });

  it('scales up when a GPU has less than 2 GB free though under 90 % (a 16 GB card)', () => {
    // 14,300 of 16,000 MiB is 89 %, with 1,700 MiB free
    expect(desired(2, [v100(19_200), v100(14_300, 16_000)])).toBe(3);
  });

  it('adds one pod a minute at most, as its behaviour says', () => {
    expect(desired(2, [v100(31_900), v100(31_900)])).toBe(3);
  });
});
