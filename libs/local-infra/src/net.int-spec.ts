import { connect, createServer } from 'node:net';
import { freePort, outgoingPortFloor } from './net';

describe(freePort.name, () => {
  it('hands out ports no outgoing connection can take before they are listened on', async () => {
    const floor = outgoingPortFloor();
    const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()));
    expect(ports.filter((port) => port >= floor)).toEqual([]);
    // and a connection made meanwhile takes its local port from the other side of that line
    const listener = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => listener.listen(ports[0], '127.0.0.1', resolve));
    const client = connect(ports[0]!, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    expect(client.localPort).toBeGreaterThanOrEqual(floor);
    client.destroy();
    listener.close();
  });

  it('hands out a port another process can listen on', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    server.close();
  });
});
