import { auditAccess } from './audit.access';
import { authAccess } from './auth.access';
import { gatewayAccess } from './gateway.access';
import { gpuAgentAccess, gpuSimulatorAccess } from './gpu-agent.access';
import { gpuNodesAccess } from './gpu-nodes.access';
import { inferenceWorkerAccess } from './inference-worker.access';
import { jobWorkerAccess } from './job-worker.access';
import { operatorAccess } from './operator.access';
import { ragAccess } from './rag.access';
import { schedulerAccess } from './scheduler.access';
import { tenantsAccess } from './tenants.access';
import type { ServiceAccess } from './service-access';

/**
 * Every service of the platform, each as it declares itself in `<service>.access.ts`. A new
 * service adds its declaration here: that alone gives it a NATS user with its rights and a
 * request-context identity (a key pair) in `npm start`, the tests and the chart.
 */
export const SERVICE_ACCESS: readonly ServiceAccess[] = [
  gatewayAccess,
  tenantsAccess,
  authAccess,
  auditAccess,
  schedulerAccess,
  operatorAccess,
  gpuNodesAccess,
  gpuAgentAccess,
  gpuSimulatorAccess,
  jobWorkerAccess,
  inferenceWorkerAccess,
  ragAccess,
];

/** The names of every declared service. */
export const SERVICE_NAMES: readonly string[] = SERVICE_ACCESS.map((a) => a.service);

export function accessOf(service: string): ServiceAccess {
  const access = SERVICE_ACCESS.find((a) => a.service === service);
  if (!access) throw new Error(`no access is declared for the service ${service}`);
  return access;
}
