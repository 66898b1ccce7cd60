export * from './config';
export * from './common.config';
export * from './numbers';
