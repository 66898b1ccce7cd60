import { randomUUID } from 'node:crypto';
import type { GpuLeaseChanged } from '@lattice/contracts';
import { parseDcgmExporter } from '../sources/dcgm-exporter.parser';
import { DEFAULT_SIMULATED_POOL, SimulatedNode, parseSimulatedPool } from './simulated-node';

const [sixteens, thirtyTwos] = parseSimulatedPool(DEFAULT_SIMULATED_POOL);

function lease(
  node: SimulatedNode,
  gpu: number,
  state: GpuLeaseChanged['state'],
  leaseId: string,
  vramMiB = 6_000,
): GpuLeaseChanged {
  return {
    leaseId,
    tenantId: '00000000-0000-4000-8000-000000000001',
    node: node.name,
    gpuUuid: node.uuids[gpu]!,
    vramMiB,
    state,
    at: new Date().toISOString(),
  };
}

describe(SimulatedNode.name, () => {
  it('runs four 16 GB and two 32 GB V100s by default, labelled simulated', () => {
    expect(sixteens).toMatchObject({ name: 'simulated-v100-16gb-0' });
    expect(sixteens!.gpus).toHaveLength(4);
    expect(thirtyTwos!.gpus).toHaveLength(2);
    const snapshot = parseDcgmExporter(new SimulatedNode(thirtyTwos!, 400).render(0));
    expect(snapshot.host).toBe('simulated-v100-32gb-0');
    expect(snapshot.gpus.map((g) => [g.model, g.totalMiB, g.reservedMiB, g.usedMiB])).toEqual([
      ['Tesla V100-SXM2-32GB (simulated)', 32_768, 288, 0],
      ['Tesla V100-SXM2-32GB (simulated)', 32_768, 288, 0],
    ]);
  });

  it('moves the memory of a GPU as its leases are granted and released, each with its CUDA context', () => {
    const node = new SimulatedNode(sixteens!, 400);
    const a = randomUUID();
    const b = randomUUID();
    expect(node.apply(lease(node, 2, 'granted', a))).toBe(true);
    expect(node.apply(lease(node, 2, 'granted', a))).toBe(false); // told twice, counted once
    expect(node.apply(lease(node, 2, 'granted', b, 3_000))).toBe(true);
    let gpu = parseDcgmExporter(node.render(1)).gpus[2]!;
    expect(gpu).toMatchObject({ usedMiB: 9_800, freeMiB: 16_384 - 240 - 9_800 });
    expect(gpu.utilizationPercent).toBeGreaterThan(0);

    expect(node.apply(lease(node, 2, 'expired', a))).toBe(true);
    expect(node.apply(lease(node, 2, 'lost', b))).toBe(true);
    expect(node.apply(lease(node, 2, 'released', b))).toBe(false);
    gpu = parseDcgmExporter(node.render(2)).gpus[2]!;
    expect(gpu).toMatchObject({ usedMiB: 0, utilizationPercent: 0 });
  });

  it('ignores leases of other nodes and GPUs', () => {
    const node = new SimulatedNode(sixteens!, 400);
    const other = new SimulatedNode(thirtyTwos!, 400);
    expect(node.apply(lease(other, 0, 'granted', randomUUID()))).toBe(false);
    expect(
      node.apply({ ...lease(node, 0, 'granted', randomUUID()), gpuUuid: 'GPU-elsewhere' }),
    ).toBe(false);
    expect(node.usedMiB()).toEqual([0, 0, 0, 0]);
  });

  it('refuses a pool it cannot read, naming the part', () => {
    expect(() => parseSimulatedPool('a=4x24')).toThrow(/"a=4x24"/);
    expect(() => parseSimulatedPool('a=4x16,a=2x32')).toThrow(/twice/);
    expect(() => parseSimulatedPool(' ')).toThrow(/no node/);
    expect(parseSimulatedPool('gpu-a=1x32')).toEqual([
      {
        name: 'gpu-a',
        gpus: [{ model: 'Tesla V100-SXM2-32GB (simulated)', totalMiB: 32_768, reservedMiB: 288 }],
      },
    ]);
  });
});
