export { DataPlane } from './data-plane';
export { DataPlaneError } from './data-plane-error';
export type { DataPlaneErrorCode } from './data-plane-error';
export { METADATA_KEY_PREFIX } from './metadata-filler';
export type { Address, DatabaseSpec, DataPlaneOptions, FirewallMode, MemoryUsage, PrivateEndpoint } from './types';
