import { hostname } from 'node:os';

const MAX = 253;

/**
 * A worker's identity: its pod name where it runs in Kubernetes (the chart sets `POD_NAME` from
 * the downward API), otherwise `<host>-<pid>`, so two processes on one machine differ. Kept to
 * the characters a worker id allows.
 */
export function workerIdentity(
  env: NodeJS.ProcessEnv = process.env,
  host: string = hostname(),
  pid: number = process.pid,
): string {
  const named = env.POD_NAME?.trim();
  return clean(named ? named : `${host}-${pid}`);
}

function clean(raw: string): string {
  const id = raw
    .replace(/[^a-zA-Z0-9_.:-]/g, '-')
    .slice(0, MAX)
    .replace(/^[^a-zA-Z0-9]+|[^a-zA-Z0-9]+$/g, '');
  return id || 'worker';
}
