export * from './tokens';
export * from './health';
export * from './metrics';
export * from './runtime.module';
export * from './clock';
export * from './shutdown';
export * from './bootstrap-service';
export * from './service-app';
