export * from './coded-error';
export * from './errors';
export * from './topics';
export * from './messages';
export * from './release';
export * from './tunnel';
export * from './link';
