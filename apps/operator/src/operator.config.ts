import { hostname } from 'node:os';
import { z } from 'zod';
import { commonConfig, integer, port, variable, type ConfigOf } from '@lattice/config';
import { normalizePrometheusUrl } from './metrics/prometheus-url';

const kubeName = z
  .string()
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    'must be a Kubernetes name (lowercase letters, digits, -)',
  )
  .max(63);

const prometheusUrls = z
  .string()
  .default('')
  .transform((raw, ctx) => {
    const urls: string[] = [];
    for (const part of raw.split(',').filter((p) => p.trim() !== '')) {
      const url = normalizePrometheusUrl(part);
      if (url === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `${part.trim()} is not an http(s) URL without query or fragment`,
        });
        return z.NEVER;
      }
      if (!urls.includes(url)) urls.push(url);
    }
    return urls;
  });

export const operatorConfigSpec = {
  ...commonConfig,
  OPERATOR_HTTP_PORT: variable(port(8090), 'Port of the operator health and metrics endpoints.'),
  OPERATOR_WATCH_NAMESPACE: variable(
    kubeName.optional(),
    'Only watch ScalingPolicies in this namespace; all namespaces when unset.',
  ),
  OPERATOR_LEASE_NAMESPACE: variable(
    kubeName.default(process.env.POD_NAMESPACE || 'lattice-system'),
    'Namespace of the leader-election Lease (defaults to POD_NAMESPACE, else lattice-system).',
  ),
  OPERATOR_LEASE_NAME: variable(
    kubeName.default('lattice-operator'),
    'Name of the leader-election Lease.',
  ),
  OPERATOR_LEASE_DURATION_SECONDS: variable(
    integer(2, 300, 15),
    'Seconds a leader lease holds without renewal; a dead leader is replaced within this.',
  ),
  OPERATOR_PROMETHEUS_URLS: variable(
    prometheusUrls,
    'Prometheus HTTP API base URLs that gpuMemory metrics may query, comma-separated; the first is the default. A policy naming any other URL is refused.',
  ),
  OPERATOR_IDENTITY: variable(
    z
      .string()
      .min(1)
      .max(128)
      .default(process.env.POD_NAME || hostname()),
    "This replica's name in the Lease (defaults to POD_NAME, else the host name).",
  ),
};

export type OperatorConfig = ConfigOf<typeof operatorConfigSpec>;
