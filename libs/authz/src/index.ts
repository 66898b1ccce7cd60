export * from './ability';
export * from './system-roles';
export * from './role-resolution';
export * from './principal';
export * from './acting-tenant';
