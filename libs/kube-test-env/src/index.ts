export * from './control-plane';
export * from './environment';
export * from './controller-manager';
