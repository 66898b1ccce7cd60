import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = resolve(__dirname, '../../..');
export const CHART_DIR = join(REPO_ROOT, 'charts/lattice');

/** A Kubernetes object as a rendered chart holds it. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export interface HelmResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

let binary: string | undefined;

/**
 * The helm binary: tools/helm/fetch-helm.sh builds it from its Go modules on a machine's first
 * run (several minutes) and caches it under ~/.cache/lattice/helm.
 */
export function helmBinary(): string {
  if (binary) return binary;
  const script = join(REPO_ROOT, 'tools/helm/fetch-helm.sh');
  const result = spawnSync('bash', [script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`${script} failed (exit ${result.status})`);
  binary = join(result.stdout.trim().split('\n').pop()!, 'helm');
  return binary;
}

/** Where helm keeps its own state: inside a test's directory, never the user's. */
function helmEnv(home: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
  };
}

/** Runs helm to its end. */
export function helm(args: string[], home: string): HelmResult {
  const result = spawnSync(helmBinary(), args, {
    encoding: 'utf8',
    env: helmEnv(home),
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs helm without blocking the event loop (a test acts on the cluster meanwhile). */
export function helmAsync(args: string[], home: string): Promise<HelmResult> {
  return new Promise((done, fail) => {
    const child = spawn(helmBinary(), args, { env: helmEnv(home) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

/** `helm template` of the chart, parsed; throws with helm's message when it fails. */
export function renderChart(
  args: string[],
  home: string,
  { chart = CHART_DIR, release = 'lattice' }: { chart?: string; release?: string } = {},
): Manifest[] {
  const result = helm(['template', release, chart, '--namespace', 'lattice', ...args], home);
  if (result.status !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  return parseManifests(result.stdout);
}

/** The objects of a multi-document YAML stream, as plain data (field names as written). */
export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
}

/** The values files the chart is tested with (charts/lattice/ci). */
export function ciValuesFiles(): string[] {
  return readdirSync(join(CHART_DIR, 'ci'))
    .filter((f) => f.endsWith('-values.yaml'))
    .map((f) => join(CHART_DIR, 'ci', f));
}

/** The apps of the repository (apps/*), each of which the chart runs. */
export function appNames(): string[] {
  return readdirSync(join(REPO_ROOT, 'apps'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(REPO_ROOT, 'apps', d.name, 'src/main.ts')))
    .map((d) => d.name);
}
