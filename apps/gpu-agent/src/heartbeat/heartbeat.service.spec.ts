import pino from 'pino';
import { Registry } from 'prom-client';
import type { GpuNodeHeartbeat } from '@lattice/contracts';
import { GpuNodeHeartbeat as HeartbeatSchema } from '@lattice/contracts';
import type { Clock } from '@lattice/service-runtime';
import { fixture } from '../../test/fixtures';
import { parseDcgmExporter } from '../sources/dcgm-exporter.parser';
import { GpuSourceError, type GpuSnapshot, type GpuSource } from '../sources/gpu-source';
import { HeartbeatService, type HeartbeatOptions } from './heartbeat.service';

const clock: Clock = { now: () => new Date('2026-01-02T03:04:05.000Z') };
const silent = pino({ level: 'silent' });

class ScriptedSource implements GpuSource {
  readonly kind = 'dcgm-exporter' as const;
  next: GpuSnapshot | Error = parseDcgmExporter(fixture('dcgm-exporter-v100-32gb.metrics'));

  read(): Promise<GpuSnapshot> {
    return this.next instanceof Error ? Promise.reject(this.next) : Promise.resolve(this.next);
  }
}

function testBed(options: Partial<HeartbeatOptions> = {}) {
  const source = new ScriptedSource();
  const sent: GpuNodeHeartbeat[] = [];
  const registry = new Registry();
  const sut = new HeartbeatService(
    source,
    (beat) => {
      sent.push(beat);
    },
    clock,
    silent,
    { intervalMs: 5_000, fallbackName: 'k8s-node-7', kubeNode: 'k8s-node-7', ...options },
    registry,
  );
  return { sut, source, sent, registry };
}

describe(HeartbeatService.name, () => {
  it('sends what the source read, under the host name the exporter gives, within the contract', async () => {
    const { sut, sent } = testBed();
    await sut.beat();
    expect(sent).toHaveLength(1);
    expect(HeartbeatSchema.safeParse(sent[0]).success).toBe(true);
    expect(sent[0]).toMatchObject({
      node: 'gpu-v100-32g-01',
      kubeNode: 'k8s-node-7',
      source: 'dcgm-exporter',
      driverVersion: '535.161.08',
      sampledAt: '2026-01-02T03:04:05.000Z',
      intervalMs: 5_000,
      sourceError: null,
    });
    expect(sent[0]!.gpus).toHaveLength(2);
  });

  it('keeps the node name it learnt while the source is down, and says why it has no GPUs', async () => {
    const { sut, source, sent, registry } = testBed();
    await sut.beat();
    source.next = new GpuSourceError(
      'the DCGM exporter at http://x/metrics is unreachable: ECONNREFUSED',
    );
    await sut.beat();
    expect(sent[1]).toMatchObject({
      node: 'gpu-v100-32g-01',
      gpus: [],
      driverVersion: null,
      sourceError: 'the DCGM exporter at http://x/metrics is unreachable: ECONNREFUSED',
    });
    expect(await registry.getSingleMetricAsString('lattice_gpu_agent_source_up')).toMatch(/ 0$/m);
  });

  it('uses a configured name over the exporter host label, and the fallback before any read', async () => {
    const named = testBed({ nodeName: 'rack-3-gpu-1' });
    await named.sut.beat();
    expect(named.sent[0]!.node).toBe('rack-3-gpu-1');

    const failing = testBed();
    failing.source.next = new Error('boom');
    await failing.sut.beat();
    expect(failing.sent[0]).toMatchObject({
      node: 'k8s-node-7',
      sourceError: 'reading the GPUs failed: Error: boom',
    });
  });

  it('counts a heartbeat it could not send, and carries on', async () => {
    const { sut, registry } = testBed();
    (sut as unknown as { send: () => void }).send = () => {
      throw new Error('connection closed');
    };
    await expect(sut.beat()).resolves.toMatchObject({ node: 'gpu-v100-32g-01' });
    expect(await registry.getSingleMetricAsString('lattice_gpu_agent_heartbeats_total')).toMatch(
      /outcome="failed"} 1/,
    );
  });
});
