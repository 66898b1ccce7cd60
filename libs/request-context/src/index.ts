export * from './request-context';
export * from './context-keys';
export * from './context-signer';
