export * from './names';
export * from './types';
export * from './messages';
export * from './failures';
export * from './readiness';
export * from './runbook';
export * from './search-attributes';
export * from './policy';
