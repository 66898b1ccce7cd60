import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import pino from 'pino';
import { loadConfig } from '@lattice/config';
import { GpuAgentHeartbeat, GpuLeaseEvents, type GpuNodeHeartbeat } from '@lattice/contracts';
import { EventBus, SubjectNamespace, connectNats } from '@lattice/messaging';
import { TEST_INTERNAL_SECRET, eventually, testNamespace, testNatsUrl } from '@lattice/testing';
import { createGpuAgentApp } from '../gpu-agent.app';
import { gpuAgentConfigSpec } from '../gpu-agent.config';
import { gpuSimulatorConfigSpec } from './gpu-simulator.config';
import { startGpuSimulator, type RunningSimulator } from './gpu-simulator.app';

const silent = pino({ level: 'silent' });

/** The simulated pool `npm start` runs, read by the real agent, over the real NATS. */
describe('simulated GPU node pool', () => {
  const ns = testNamespace();
  let simulator: RunningSimulator;
  let agent: INestApplication;
  let nc: NatsConnection;

  beforeAll(async () => {
    simulator = await startGpuSimulator(
      loadConfig(gpuSimulatorConfigSpec, {
        NATS_URL: testNatsUrl(),
        LATTICE_NAMESPACE: ns,
        LATTICE_BIND_HOST: '127.0.0.1',
        LATTICE_GPU_SIMULATOR_PORTS: '0',
        LATTICE_GPU_SIMULATOR_POOL: 'simulated-v100-32gb-t=2x32',
      }),
      silent,
    );
    agent = await createGpuAgentApp(
      loadConfig(gpuAgentConfigSpec, {
        NATS_URL: testNatsUrl(),
        LATTICE_NAMESPACE: ns,
        LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
        LATTICE_BIND_HOST: '127.0.0.1',
        GPU_AGENT_HTTP_PORT: '0',
        LATTICE_GPU_AGENT_INTERVAL_MS: '200',
        LATTICE_GPU_AGENT_DCGM_URL: simulator.urls.get('simulated-v100-32gb-t')!,
      }),
      silent,
    );
    nc = await connectNats(testNatsUrl(), 'gpu-simulator-test');
  });
  afterAll(async () => {
    await agent?.close();
    await simulator?.close();
    await nc?.close();
  });

  it('shows a granted lease in the heartbeat of its node, and its release', async () => {
    const bus = new EventBus(nc, new SubjectNamespace(ns), silent);
    const heard: GpuNodeHeartbeat[] = [];
    bus.subscribe(GpuAgentHeartbeat, (beat) => {
      heard.push(beat);
    });
    await nc.flush();
    await eventually(() => expect(heard.at(-1)?.gpus).toHaveLength(2));
    const [, second] = heard.at(-1)!.gpus;
    expect(heard.at(-1)).toMatchObject({ node: 'simulated-v100-32gb-t', sourceError: null });
    expect(second).toMatchObject({ model: 'Tesla V100-SXM2-32GB (simulated)', usedMiB: 0 });

    const leaseId = randomUUID();
    const event = {
      leaseId,
      tenantId: randomUUID(),
      node: 'simulated-v100-32gb-t',
      gpuUuid: second!.uuid,
      vramMiB: 14_000,
    };
    bus.publish(GpuLeaseEvents, { ...event, state: 'granted', at: new Date().toISOString() });
    await eventually(() => expect(heard.at(-1)?.gpus[1]?.usedMiB).toBe(14_400));
    expect(heard.at(-1)?.gpus[0]?.usedMiB).toBe(0);

    bus.publish(GpuLeaseEvents, { ...event, state: 'released', at: new Date().toISOString() });
    await eventually(() => expect(heard.at(-1)?.gpus[1]?.usedMiB).toBe(0));
  });
});
