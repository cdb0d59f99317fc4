export * from './connection';
export * from './client-options';
export * from './mqtt-connect';
export * from './app-link';
export * from './exit-on-signal';
export * from './deadline';
