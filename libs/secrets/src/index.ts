export * from './envelope';
export * from './secrets.config';
export * from './derived-key';
