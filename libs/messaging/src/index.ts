export * from './namespace';
export * from './nats-connection';
export * from './context-headers';
export * from './rpc-client';
export * from './rpc-server';
export * from './jetstream';
export * from './batch-consumer';
export * from './audit-recorder';
