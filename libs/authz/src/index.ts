export * from './ability';
export * from './system-roles';
export * from './role-resolution';
export * from './principal';
