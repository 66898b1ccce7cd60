export * from './telemetry';
export * from './nats-propagation';
export * from './service-main';
