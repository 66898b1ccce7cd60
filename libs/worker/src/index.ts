export * from './job-errors';
export * from './scheduler-client';
export * from './worker';
export * from './worker-identity';
export * from './progress-reporter';
export * from './queue-worker.runner';
