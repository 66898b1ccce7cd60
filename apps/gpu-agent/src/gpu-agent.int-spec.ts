import type { INestApplication } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import pino from 'pino';
import { loadConfig } from '@lattice/config';
import { GpuAgentHeartbeat, type GpuNodeHeartbeat } from '@lattice/contracts';
import { LocalNatsServer } from '@lattice/local-infra';
import { EventBus, SubjectNamespace, connectNats } from '@lattice/messaging';
import { TEST_INTERNAL_SECRET, eventually, testNamespace, testNatsUrl } from '@lattice/testing';
import { ExporterStandIn } from '../test/exporter-stand-in';
import { fixture } from '../test/fixtures';
import { createGpuAgentApp } from './gpu-agent.app';
import { gpuAgentConfigSpec } from './gpu-agent.config';

const silent = pino({ level: 'silent' });

function agentConfig(natsUrl: string, namespace: string, dcgmUrl: string) {
  return loadConfig(gpuAgentConfigSpec, {
    NATS_URL: natsUrl,
    LATTICE_NAMESPACE: namespace,
    LATTICE_INTERNAL_SECRET: TEST_INTERNAL_SECRET,
    LATTICE_BIND_HOST: '127.0.0.1',
    GPU_AGENT_HTTP_PORT: '0',
    LATTICE_GPU_AGENT_INTERVAL_MS: '200',
    LATTICE_GPU_AGENT_READ_TIMEOUT_MS: '500',
    LATTICE_GPU_AGENT_DCGM_URL: dcgmUrl,
    NODE_NAME: 'k8s-node-7',
    LOG_LEVEL: 'silent',
  });
}

/** Every heartbeat heard on `nc` in namespace `ns`, in order. */
async function listen(nc: NatsConnection, ns: string): Promise<GpuNodeHeartbeat[]> {
  const heard: GpuNodeHeartbeat[] = [];
  new EventBus(nc, new SubjectNamespace(ns), silent).subscribe(GpuAgentHeartbeat, (beat) => {
    heard.push(beat);
  });
  await nc.flush();
  return heard;
}

describe('GPU agent', () => {
  let exporter: ExporterStandIn;
  let app: INestApplication | undefined;
  let listener: NatsConnection;

  beforeEach(async () => {
    exporter = await ExporterStandIn.start(fixture('dcgm-exporter-v100-32gb.metrics'));
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await exporter.down();
    await listener?.close();
  });

  it('publishes each GPU of the exporter at the interval, under the exporter host name', async () => {
    const ns = testNamespace();
    listener = await connectNats(testNatsUrl(), 'gpu-agent-test-listener');
    const heard = await listen(listener, ns);
    app = await createGpuAgentApp(agentConfig(testNatsUrl(), ns, exporter.url), silent);

    await eventually(() => expect(heard.length).toBeGreaterThanOrEqual(3));
    const beat = heard.at(-1)!;
    expect(beat).toMatchObject({
      node: 'gpu-v100-32g-01',
      kubeNode: 'k8s-node-7',
      source: 'dcgm-exporter',
      driverVersion: '535.161.08',
      intervalMs: 200,
      sourceError: null,
    });
    expect(beat.gpus.map((g) => [g.uuid, g.totalMiB, g.usedMiB, g.reservedMiB])).toEqual([
      ['GPU-3c1f5a7e-2b9d-4e61-8a0c-5d7f9e1b2c43', 32_768, 31_566, 288],
      ['GPU-9e4b2d6a-7c15-4f83-b2e9-0a6d8c3f5e17', 32_768, 0, 288],
    ]);

    const address = app.getHttpServer().address() as { port: number };
    const metrics = await (await fetch(`http://127.0.0.1:${address.port}/metrics`)).text();
    expect(metrics).toMatch(/lattice_gpu_agent_source_up 1/);
    expect((await fetch(`http://127.0.0.1:${address.port}/readyz`)).status).toBe(200);
  });

  it('keeps beating while the exporter is down, saying why, and reads it again when it is back', async () => {
    const ns = testNamespace();
    listener = await connectNats(testNatsUrl(), 'gpu-agent-test-listener');
    const heard = await listen(listener, ns);
    app = await createGpuAgentApp(agentConfig(testNatsUrl(), ns, exporter.url), silent);
    await eventually(() => expect(heard.some((b) => b.gpus.length === 2)).toBe(true));

    await exporter.down();
    const downFrom = heard.length;
    await eventually(() =>
      expect(
        heard.slice(downFrom).filter((b) => b.sourceError !== null).length,
      ).toBeGreaterThanOrEqual(2),
    );
    const down = heard.slice(downFrom).find((b) => b.sourceError !== null)!;
    expect(down).toMatchObject({ node: 'gpu-v100-32g-01', gpus: [] });
    expect(down.sourceError).toMatch(
      /DCGM exporter at http:\/\/127\.0\.0\.1:\d+\/metrics is unreachable/,
    );

    // back, and one GPU has fallen off the bus meanwhile
    exporter.body = fixture('dcgm-exporter-v100-32gb-fell-off-the-bus.metrics');
    await exporter.up();
    const upFrom = heard.length;
    await eventually(() => {
      const back = heard.slice(upFrom).find((b) => b.sourceError === null);
      expect(back?.gpus.map((g) => [g.index, g.lost, g.lastXid])).toEqual([
        [0, false, 0],
        [1, true, 79],
      ]);
    });
  });

  it('says so when the exporter answers something else than its metrics', async () => {
    const ns = testNamespace();
    listener = await connectNats(testNatsUrl(), 'gpu-agent-test-listener');
    const heard = await listen(listener, ns);
    exporter.body = '<html><body>502 Bad Gateway</body></html>';
    app = await createGpuAgentApp(agentConfig(testNatsUrl(), ns, exporter.url), silent);
    await eventually(() => expect(heard[0]?.sourceError).toMatch(/not Prometheus text/));
    // no host label yet: the Kubernetes node name stands in
    expect(heard[0]).toMatchObject({ node: 'k8s-node-7', gpus: [] });
  });

  it('comes back by itself when NATS goes away and returns', async () => {
    const nats = await LocalNatsServer.start();
    try {
      const ns = testNamespace();
      app = await createGpuAgentApp(agentConfig(nats.url, ns, exporter.url), silent);
      listener = await connectNats(nats.url, 'gpu-agent-test-listener');
      const before = await listen(listener, ns);
      await eventually(() => expect(before.length).toBeGreaterThan(0));

      await nats.halt();
      await nats.resume();

      // both clients reconnect by themselves; a new subscription hears the agent again
      const after = await listen(listener, ns);
      await eventually(() => expect(after.length).toBeGreaterThanOrEqual(2), { timeoutMs: 15_000 });
      expect(after.at(-1)).toMatchObject({ node: 'gpu-v100-32g-01', sourceError: null });
    } finally {
      await app?.close();
      app = undefined;
      await listener?.close();
      await nats.stop();
    }
  }, 30_000);
});
