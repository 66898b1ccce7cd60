import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, Socket, type AddressInfo } from 'node:net';

/** The lowest port chosen from. */
const LOWEST_PORT = 10_000;

/**
 * Where the kernel's range for the local ports of outgoing connections begins (Linux says in
 * /proc; 32768 is its default and the common floor elsewhere).
 */
export function outgoingPortFloor(): number {
  try {
    const low = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * A port free to listen on at 127.0.0.1, for a process started next to listen on. It is chosen
 * at random below the range the kernel takes the ports of outgoing connections from: a port the
 * kernel chose (listening on port 0) lies in that range, where any connection made before the
 * process listens (a service loads for seconds first, while tests and benches open connections
 * by the thousand) can take it, and the service then cannot start. Another chooser may still
 * pick the same port; whoever listens second is told EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  const ceiling = outgoingPortFloor();
  if (ceiling - LOWEST_PORT >= 1_000) {
    for (let tries = 0; tries < 100; tries++) {
      const port = await listenedOn(randomInt(LOWEST_PORT, ceiling));
      if (port) return port;
    }
  }
  const port = await listenedOn(0);
  if (!port) throw new Error('no port is free to listen on at 127.0.0.1');
  return port;
}

/** The port a listener at 127.0.0.1 got, given `port` (0: the kernel's choice), once closed. */
function listenedOn(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}

/** Whether something accepts TCP connections at host:port within the timeout. */
export function answers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}
