import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from '@lattice/local-infra';

export interface KubeControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** Bearer token of a member of system:masters. */
  token: string;
  /** PEM of the API server's self-signed serving certificate, to trust as CA. */
  caFile: string;
  /** Its private key (test stand-ins serving HTTPS may reuse the pair). */
  keyFile: string;
  /** A kubeconfig for kubectl and @kubernetes/client-node. */
  kubeconfigPath: string;
  /** The kubectl binary of the same release as the API server. */
  kubectl: string;
  stop(): Promise<void>;
}

/** The repository root, from the sources or from their build under dist/. */
function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'tools/kube-test-env/fetch-binaries.sh'))) {
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('tools/kube-test-env/fetch-binaries.sh not found above ' + __dirname);
    dir = parent;
  }
  return dir;
}

const BINARIES = ['etcd', 'kube-apiserver', 'kubectl'];

/**
 * Runs the fetch script (which builds kube-apiserver and kubectl on first use) and returns the
 * directory holding etcd, kube-apiserver and kubectl.
 */
export function kubeBinaries(log: (line: string) => void = () => undefined): string {
  const env = process.env.KUBEBUILDER_ASSETS;
  if (env && BINARIES.every((bin) => existsSync(join(env, bin)))) return env;
  log(
    "finding etcd, kube-apiserver and kubectl (built on a machine's first run, which takes several minutes)",
  );
  const script = join(repoRoot(), 'tools/kube-test-env/fetch-binaries.sh');
  const result = spawnSync('bash', [script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`${script} failed (exit ${result.status})`);
  return result.stdout.trim().split('\n').pop()!;
}

function waitForExitOrKill(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}

function get(url: string, token: string, ca?: Buffer): Promise<number> {
  return new Promise((done) => {
    const req = request(
      url,
      {
        headers: { authorization: `Bearer ${token}` },
        ca,
        rejectUnauthorized: Boolean(ca),
        timeout: 2_000,
      },
      (res) => {
        res.resume();
        done(res.statusCode ?? 0);
      },
    );
    req.on('error', () => done(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * Starts etcd and kube-apiserver on free loopback ports in a throw-away directory: a static
 * token for a cluster admin, RBAC authorisation, fresh service-account signing keys, and a
 * serving certificate the API server generates. No controller manager, scheduler or kubelet.
 */
export async function startControlPlane(
  log: (line: string) => void = () => undefined,
): Promise<KubeControlPlane> {
  const bin = kubeBinaries(log);
  const dir = mkdtempSync(join(tmpdir(), 'lattice-kube-'));
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const child of children.reverse()) await waitForExitOrKill(child, 10_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdLog: string[] = [];
    const etcd = spawn(
      join(bin, 'etcd'),
      [
        '--data-dir',
        join(dir, 'etcd'),
        '--listen-client-urls',
        `http://127.0.0.1:${etcdPort}`,
        '--advertise-client-urls',
        `http://127.0.0.1:${etcdPort}`,
        '--listen-peer-urls',
        `http://127.0.0.1:${peerPort}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${peerPort}`,
        '--initial-cluster',
        `default=http://127.0.0.1:${peerPort}`,
        '--unsafe-no-fsync',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    etcd.stderr!.on('data', (chunk: Buffer) => etcdLog.push(chunk.toString()));
    children.push(etcd);

    const token = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${token},lattice-test-admin,1,"system:masters"\n`);
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));

    const apiLog: string[] = [];
    const apiserver = spawn(
      join(bin, 'kube-apiserver'),
      [
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        `--secure-port=${apiPort}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--cert-dir=${join(dir, 'certs')}`,
        `--token-auth-file=${join(dir, 'tokens.csv')}`,
        '--authorization-mode=RBAC',
        '--service-account-issuer=https://kubernetes.default.svc',
        `--service-account-key-file=${join(dir, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
        '--service-cluster-ip-range=10.96.0.0/16',
        // no controller manager creates default service accounts, so pods could not be admitted
        '--disable-admission-plugins=ServiceAccount',
        // aggregated APIs (metrics.k8s.io) are reached at their endpoints, there is no kube-proxy
        '--enable-aggregator-routing=true',
        '--enable-priority-and-fairness=false',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    apiserver.stderr!.on('data', (chunk: Buffer) => {
      apiLog.push(chunk.toString());
      if (apiLog.length > 200) apiLog.shift();
    });
    children.push(apiserver);

    const server = `https://127.0.0.1:${apiPort}`;
    const deadline = Date.now() + 90_000;
    while ((await get(`${server}/readyz`, token)) !== 200) {
      if (apiserver.exitCode !== null || etcd.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `kube-apiserver did not become ready:\n${apiLog.join('').slice(-3000)}\netcd:\n${etcdLog.join('').slice(-1000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const caFile = join(dir, 'certs', 'apiserver.crt');
    const keyFile = join(dir, 'certs', 'apiserver.key');
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfigPath,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: test\n  cluster:\n    server: ${server}\n    certificate-authority-data: ${readFileSync(caFile).toString('base64')}`,
        'users:',
        `- name: admin\n  user:\n    token: ${token}`,
        'contexts:',
        '- name: test\n  context:\n    cluster: test\n    user: admin',
        'current-context: test',
        '',
      ].join('\n'),
    );
    return { server, token, caFile, keyFile, kubeconfigPath, kubectl: join(bin, 'kubectl'), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
