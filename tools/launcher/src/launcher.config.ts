import { z } from 'zod';
import { bindHost, commonConfig, logFormat, port, variable } from '@lattice/config';

/** What `npm start` reads besides what it passes through to the services. */
export const launcherConfigSpec = {
  LATTICE_STATE_DIR: variable(
    z.string().min(1).default('.lattice'),
    'Embedded PostgreSQL, NATS store and generated secrets.',
  ),
  LATTICE_POSTGRES_PORT: variable(port(54329), 'Port of the embedded PostgreSQL.'),
  LATTICE_BIND_HOST: variable(
    bindHost('127.0.0.1'),
    'Address the gateway and the services listen on; this machine only unless set.',
  ),
  LATTICE_LOG_FORMAT: variable(
    logFormat.optional(),
    "The services' log lines: readable on a terminal, else JSON, unless set.",
  ),
  LOG_LEVEL: commonConfig.LOG_LEVEL,
  GATEWAY_PORT: variable(port(8080), 'Port of the API.'),
  TENANTS_HTTP_PORT: variable(port(8081), 'Health and metrics port of the tenants service.'),
  AUTH_HTTP_PORT: variable(port(8082), 'Health and metrics port of the auth service.'),
  AUDIT_HTTP_PORT: variable(port(8083), 'Health and metrics port of the audit service.'),
  SCHEDULER_HTTP_PORT: variable(port(8084), 'Health and metrics port of the scheduler service.'),
  GPU_NODES_HTTP_PORT: variable(port(8085), 'Health and metrics port of the GPU-node service.'),
  INFERENCE_WORKER_HTTP_PORT: variable(
    port(8091),
    'Health and metrics port of the inference worker.',
  ),
  MODEL_STAND_IN_PORT: variable(
    port(9300),
    'Port of the model-server stand-in the inference worker calls (OpenAI-compatible, /v1).',
  ),
  RAG_HTTP_PORT: variable(port(8087), 'Health and metrics port of the RAG service.'),
};
