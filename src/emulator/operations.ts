/**
 * Names of the ARM operations the emulator serves. Fault filters (throttle, latency, LRO faults),
 * counters and the access log all use these names.
 */
export const OPERATION_NAMES = [
  // Microsoft.Cache/redisEnterprise
  'getCluster',
  'listDatabases',
  'getDatabase',
  'create',
  'update',
  'delete',
  'forceUnlink',
  'forceLinkToReplicationGroup',
  'flush',
  'listKeys',
  'regenerateKey',
  'getOperationStatus',
  'getOperationResult',
  // Microsoft.Insights metrics (Azure Monitor): per resource on ARM, and the regional batch API
  'listMetrics',
  'getMetricsBatch',
  // Microsoft.Network/trafficmanagerprofiles
  'listProfiles',
  'getProfile',
  'getEndpoint',
  'createOrUpdateEndpoint',
  'updateEndpoint',
  'deleteEndpoint',
] as const;
export type OperationName = (typeof OPERATION_NAMES)[number];

/** Operations that run as long-running operations, and so can be given LRO faults. */
export const LRO_OPERATIONS = [
  'create',
  'update',
  'delete',
  'forceUnlink',
  'forceLinkToReplicationGroup',
  'flush',
] as const;
export type LroOperationName = (typeof LRO_OPERATIONS)[number];

export function isOperationName(value: string): value is OperationName {
  return (OPERATION_NAMES as readonly string[]).includes(value);
}
