export * from './release';
export * from './tunnel';
