import { connect, type NatsConnection } from 'nats';

/** A service's own NATS user (LATTICE_NATS_USER / LATTICE_NATS_PASSWORD), where it has one. */
export interface NatsCredentials {
  user: string;
  pass: string;
}

/** The credentials of a service's configuration: both variables set, or none. */
export function natsCredentials(config: {
  LATTICE_NATS_USER?: string | undefined;
  LATTICE_NATS_PASSWORD?: string | undefined;
}): NatsCredentials | undefined {
  const { LATTICE_NATS_USER: user, LATTICE_NATS_PASSWORD: pass } = config;
  if (user === undefined && pass === undefined) return undefined;
  if (user === undefined || pass === undefined) {
    throw new Error('LATTICE_NATS_USER and LATTICE_NATS_PASSWORD go together: set both or neither');
  }
  return { user, pass };
}

/** A connection that reconnects for ever: a NATS restart pauses the service, it does not end it. */
export async function connectNats(
  url: string,
  name: string,
  credentials?: NatsCredentials,
): Promise<NatsConnection> {
  return connect({
    servers: url,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    ...credentials,
  });
}
