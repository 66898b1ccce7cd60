export * from './telemetry';
export * from './nats-propagation';
