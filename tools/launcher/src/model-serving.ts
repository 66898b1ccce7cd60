import { join } from 'node:path';
import type { ServiceSpec } from './service-process';

/** Where the model-server stand-in and the inference worker's health endpoints listen. */
export interface ModelServingPorts {
  standIn: number;
  worker: number;
}

export const DEFAULT_MODEL_SERVING_PORTS: ModelServingPorts = { standIn: 9300, worker: 8091 };

/**
 * What answers questions in `npm start`, where no GPU node serves a model: the model-server
 * stand-in (an OpenAI-compatible server that answers from the passages it is given, and says
 * it is a stand-in), and the inference worker, which falls back to it for any model gpu-nodes
 * has no route for. The scheduler, started before them, declares the worker's queue, so the
 * worker is waited on until it is ready: registered and serving `inference-interactive`.
 */
export function modelServingServices(
  common: Record<string, string>,
  ports: ModelServingPorts = DEFAULT_MODEL_SERVING_PORTS,
): ServiceSpec[] {
  const standInUrl = `http://127.0.0.1:${ports.standIn}/v1`;
  return [
    {
      name: 'model-server-stand-in',
      entry: join('libs', 'model-server-stand-in', 'src', 'main.js'),
      env: {
        ...common,
        MODEL_STAND_IN_PORT: String(ports.standIn),
        MODEL_STAND_IN_HOST: '127.0.0.1',
      },
      readyUrl: `http://127.0.0.1:${ports.standIn}/readyz`,
    },
    {
      name: 'inference-worker',
      entry: join('apps', 'inference-worker', 'src', 'main.js'),
      env: {
        ...common,
        INFERENCE_WORKER_HTTP_PORT: String(ports.worker),
        LATTICE_MODEL_ENDPOINTS: `*=${standInUrl}`,
      },
      readyUrl: `http://127.0.0.1:${ports.worker}/readyz`,
    },
  ];
}
