import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { kubeBinaries, type KubeControlPlane } from './control-plane';

export interface ControllerManager {
  stop(): Promise<void>;
}

/**
 * Runs kube-controller-manager (of the API server's release) against a control plane, with
 * only the given controllers, no leader election and no serving port. Without a scheduler or
 * kubelet its pods stay Pending, but the ReplicaSet controller still creates them and chooses
 * which to delete. It acts on every namespace, so give it a control plane of its own
 * (`startControlPlane()`), not the one every test file shares.
 */
export async function startControllerManager(
  plane: Pick<KubeControlPlane, 'kubeconfigPath'>,
  controllers: readonly string[] = ['deployment', 'replicaset'],
  log: (line: string) => void = () => undefined,
): Promise<ControllerManager> {
  const binary = join(kubeBinaries(log), 'kube-controller-manager');
  if (!existsSync(binary))
    throw new Error(
      `${binary} is missing: run tools/kube-test-env/fetch-binaries.sh (KUBEBUILDER_ASSETS does not ship it)`,
    );
  const output: string[] = [];
  const child = spawn(
    binary,
    [
      `--kubeconfig=${plane.kubeconfigPath}`,
      `--controllers=${controllers.join(',')}`,
      '--leader-elect=false',
      '--secure-port=0',
      // react at once rather than on the default resync
      '--concurrent-replicaset-syncs=5',
      '--concurrent-deployment-syncs=5',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.on('data', (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 200) output.shift();
  });
  const exited = new Promise<void>((done) =>
    child.exitCode !== null ? done() : child.once('exit', () => done()),
  );
  // it has no readiness endpoint without a serving port: give it a moment to fail on bad flags
  await Promise.race([exited, new Promise((r) => setTimeout(r, 1_000))]);
  if (child.exitCode !== null)
    throw new Error(
      `kube-controller-manager exited (${child.exitCode}):\n${output.join('').slice(-3000)}`,
    );
  return {
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
