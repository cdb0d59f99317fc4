export * from './connection';
export * from './client-options';
