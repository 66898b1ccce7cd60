import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { networkInterfaces } from 'node:os';
import type { AddressInfo } from 'node:net';
import { testKube } from '@lattice/kube-test-env';

export interface PodCpu {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  /** CPU use, as metrics-server writes it ("400m"). */
  cpu: string;
}

/**
 * Stands in for metrics-server, which is outside the product: serves the real
 * metrics.k8s.io/v1beta1 discovery document and PodMetrics lists over HTTPS, for the API
 * server's aggregation layer to proxy to. It listens on a non-loopback address, because the
 * API server refuses loopback endpoints for a Service.
 */
export class MetricsServerStandIn {
  pods: PodCpu[] = [];
  private server?: Server;

  static address(): string {
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
    }
    throw new Error(
      'the metrics.k8s.io stand-in needs a non-loopback IPv4 address on this machine',
    );
  }

  async start(): Promise<{ ip: string; port: number }> {
    const { caFile, keyFile } = testKube();
    const ip = MetricsServerStandIn.address();
    this.server = createServer(
      { cert: readFileSync(caFile), key: readFileSync(keyFile) },
      (req, res) => {
        const url = new URL(req.url ?? '/', 'https://stand-in');
        const send = (body: unknown) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (url.pathname === '/apis/metrics.k8s.io/v1beta1') {
          return send({
            kind: 'APIResourceList',
            apiVersion: 'v1',
            groupVersion: 'metrics.k8s.io/v1beta1',
            resources: [
              {
                name: 'pods',
                singularName: '',
                namespaced: true,
                kind: 'PodMetrics',
                verbs: ['get', 'list'],
              },
              {
                name: 'nodes',
                singularName: '',
                namespaced: false,
                kind: 'NodeMetrics',
                verbs: ['get', 'list'],
              },
            ],
          });
        }
        const list = /^\/apis\/metrics\.k8s\.io\/v1beta1\/namespaces\/([^/]+)\/pods$/.exec(
          url.pathname,
        );
        if (list) {
          const selector = Object.fromEntries(
            (url.searchParams.get('labelSelector') ?? '')
              .split(',')
              .filter(Boolean)
              .map((term) => term.split('=') as [string, string]),
          );
          const items = this.pods
            .filter((p) => p.namespace === list[1])
            .filter((p) => Object.entries(selector).every(([k, v]) => p.labels[k] === v))
            .map((p) => ({
              metadata: {
                name: p.name,
                namespace: p.namespace,
                labels: p.labels,
                creationTimestamp: new Date().toISOString(),
              },
              timestamp: new Date().toISOString(),
              window: '30s',
              containers: [{ name: 'app', usage: { cpu: p.cpu, memory: '64Mi' } }],
            }));
          return send({
            kind: 'PodMetricsList',
            apiVersion: 'metrics.k8s.io/v1beta1',
            metadata: {},
            items,
          });
        }
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            kind: 'Status',
            apiVersion: 'v1',
            status: 'Failure',
            code: 404,
            reason: 'NotFound',
          }),
        );
      },
    );
    await new Promise<void>((done) => this.server!.listen(0, ip, done));
    return { ip, port: (this.server.address() as AddressInfo).port };
  }

  async stop(): Promise<void> {
    // the aggregator keeps connections alive; close would wait for them otherwise
    this.server?.closeAllConnections();
    await new Promise((done) => this.server?.close(done));
  }
}
