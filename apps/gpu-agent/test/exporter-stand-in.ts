import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Stands in for the DCGM exporter in tests: serves the text it is given at `/metrics`, and can
 * go away (its port refuses connections) and come back on the same port.
 */
export class ExporterStandIn {
  body = '';
  private server?: Server;
  private port = 0;

  static async start(body: string): Promise<ExporterStandIn> {
    const standIn = new ExporterStandIn();
    standIn.body = body;
    await standIn.up();
    return standIn;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/metrics`;
  }

  async up(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.body);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
