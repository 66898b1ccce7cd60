export * from './data-source';
export * from './tenant-scope';
export * from './cursor';
export * from './affected-rows';
export * from './usage-outbox-table';
export * from './copy-rows';
