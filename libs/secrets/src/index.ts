export * from './envelope';
export * from './secrets.config';
