export * from './grounded-answer';
export * from './stand-in-failure';
export * from './stand-in-server';
