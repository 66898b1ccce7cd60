export * from '@lattice/local-infra';
export * from './eventually';
export * from './environment';
export * from './database';
export * from './helpers';
export * from './test-bed';
export * from './nats-responder';
export * from './built-service';
