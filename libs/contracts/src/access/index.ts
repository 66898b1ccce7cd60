export * from './service-access';
export * from './nats-permissions';
export * from './services.access';
export * from './job-worker.access';
export * from './inference-worker.access';
