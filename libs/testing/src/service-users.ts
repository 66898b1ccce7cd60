import { randomBytes } from 'node:crypto';
import { SERVICE_ACCESS, natsPermissionsDocument, type ServiceAccess } from '@lattice/contracts';
import { LocalNatsServer, natsUsers } from '@lattice/local-infra';
import type { NatsCredentials } from '@lattice/messaging';

/** A nats-server of a test's own, on which each declared service is a user with its rights. */
export interface NatsWithServiceUsers {
  url: string;
  server: LocalNatsServer;
  /** Each user's password, by service. */
  passwords: Record<string, string>;
  /** The credentials of a declared service's user. */
  credentialsOf(service: string): NatsCredentials;
  /** LATTICE_NATS_USER / LATTICE_NATS_PASSWORD of a declared service. */
  envOf(service: string): { LATTICE_NATS_USER: string; LATTICE_NATS_PASSWORD: string };
  stop(): Promise<void>;
}

/**
 * Starts a nats-server with JetStream whose only users are the declared services, each
 * allowed what its access declaration derives for `namespace` (as `npm start` and the chart
 * run it), and the test's own stand-ins for services not in the platform (`extra`: a worker).
 */
export async function startNatsWithServiceUsers(
  namespace: string,
  extra: readonly ServiceAccess[] = [],
): Promise<NatsWithServiceUsers> {
  const services = [...SERVICE_ACCESS, ...extra];
  const passwords = Object.fromEntries(
    services.map(({ service }) => [service, randomBytes(12).toString('hex')]),
  );
  const users = natsUsers(natsPermissionsDocument(services, namespace), passwords);
  const server = await LocalNatsServer.start(undefined, undefined, { users });
  const credentialsOf = (service: string): NatsCredentials => {
    const pass = passwords[service];
    if (!pass) throw new Error(`${service} is not a declared service`);
    return { user: service, pass };
  };
  return {
    url: server.url,
    server,
    passwords,
    credentialsOf,
    envOf: (service) => {
      const { user, pass } = credentialsOf(service);
      return { LATTICE_NATS_USER: user, LATTICE_NATS_PASSWORD: pass };
    },
    stop: () => server.stop(),
  };
}
