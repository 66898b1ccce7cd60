export * from './control-plane';
export * from './environment';
