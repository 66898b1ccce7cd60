import { connect, type NatsConnection } from 'nats';

/** A connection that reconnects for ever: a NATS restart pauses the service, it does not end it. */
export async function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({
    servers: url,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
  });
}
