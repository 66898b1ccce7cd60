export * from './request-context';
export * from './context-signer';
