export * from './net';
export * from './nats-server';
export * from './postgres';
