export * from './subject';
export * from './errors';
export * from './common/common.schema';
export * from './tenants/tenant.schema';
export * from './tenants/tenants.subjects';
export * from './usage/usage.schema';
export * from './gpu/gpu.schema';
export * from './gpu/gpu.subjects';
