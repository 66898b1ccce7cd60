export * from './net';
export * from './eventually';
export * from './nats-server';
export * from './postgres';
export * from './environment';
