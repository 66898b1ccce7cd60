import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GpuLeaseEvents } from '@lattice/contracts';
import type { Logger } from '@lattice/logging';
import { EventBus, SubjectNamespace, connectNats, natsCredentials } from '@lattice/messaging';
import { defineService, type Closable } from '@lattice/service-runtime';
import { gpuSimulatorConfigSpec, type GpuSimulatorConfig } from './gpu-simulator.config';
import { SimulatedNode } from './simulated-node';

/** Where the first simulated node listens unless told; the next ones on the next ports. */
export const FIRST_PORT = 9401;

export interface RunningSimulator extends Closable {
  nodes: SimulatedNode[];
  /** Each simulated node's exporter endpoint, by node name. */
  urls: Map<string, string>;
}

/** What /livez and /readyz answer, naming this start of the process where it was named. */
const HEALTHY = JSON.stringify({
  status: 'ok',
  ...(process.env.LATTICE_INSTANCE_ID ? { instance: process.env.LATTICE_INSTANCE_ID } : {}),
});

function serve(node: SimulatedNode, port: number, host: string): Promise<Server> {
  let tick = 0;
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(node.render(tick++));
    } else if (req.url === '/livez' || req.url === '/readyz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(HEALTHY);
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/**
 * The simulated GPU node pool: one small DCGM-exporter-like server per simulated node, whose
 * memory in use follows the VRAM lease events of the GPU-node service. For a machine without
 * GPUs only; every name it shows says "simulated".
 */
export async function startGpuSimulator(
  config: GpuSimulatorConfig,
  logger: Logger,
): Promise<RunningSimulator> {
  const ports = config.LATTICE_GPU_SIMULATOR_PORTS;
  if (ports && ports.length !== config.LATTICE_GPU_SIMULATOR_POOL.length) {
    throw new Error(
      `LATTICE_GPU_SIMULATOR_PORTS names ${ports.length} port(s) for ${config.LATTICE_GPU_SIMULATOR_POOL.length} simulated node(s)`,
    );
  }
  const nodes = config.LATTICE_GPU_SIMULATOR_POOL.map(
    (spec) => new SimulatedNode(spec, config.LATTICE_GPU_SIMULATOR_CUDA_CONTEXT_MIB),
  );
  const nats = await connectNats(config.NATS_URL, 'lattice-gpu-simulator', natsCredentials(config));
  const bus = new EventBus(nats, new SubjectNamespace(config.LATTICE_NAMESPACE), logger);
  const subscription = bus.subscribe(GpuLeaseEvents, (event) => {
    for (const node of nodes) {
      if (node.apply(event)) {
        logger.info(
          {
            node: node.name,
            gpu: event.gpuUuid,
            lease: event.leaseId,
            state: event.state,
            vramMiB: event.vramMiB,
            usedMiB: node.usedMiB(),
          },
          'simulated GPU memory moved with a lease',
        );
      }
    }
  });

  const servers: Server[] = [];
  const urls = new Map<string, string>();
  try {
    for (const [i, node] of nodes.entries()) {
      const port = ports ? ports[i]! : FIRST_PORT + i;
      const server = await serve(node, port, config.LATTICE_BIND_HOST);
      servers.push(server);
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
      urls.set(node.name, url);
      logger.info(
        { node: node.name, gpus: node.spec.gpus.map((g) => g.model), url },
        'SIMULATED GPU node (no real hardware) serving the DCGM exporter format',
      );
    }
  } catch (error) {
    for (const server of servers) server.close();
    await nats.close();
    throw error;
  }

  return {
    nodes,
    urls,
    async close() {
      subscription.unsubscribe();
      await Promise.all(
        servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      );
      await nats.drain().catch(() => undefined);
    },
  };
}

export const gpuSimulatorService = defineService({
  name: 'gpu-simulator',
  config: gpuSimulatorConfigSpec,
  create: (config, logger) => startGpuSimulator(config, logger),
  started: (config) => ({
    simulated: true,
    nodes: config.LATTICE_GPU_SIMULATOR_POOL.map((n) => n.name),
    ports:
      config.LATTICE_GPU_SIMULATOR_PORTS ??
      config.LATTICE_GPU_SIMULATOR_POOL.map((_, i) => FIRST_PORT + i),
  }),
});
