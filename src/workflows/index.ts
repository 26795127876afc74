// The worker's workflowsPath. Export each workflow by name (no `export *`): the function name is the
// workflow type of the public contract (WORKFLOW_TYPES in src/contract/names.ts).
import './sandbox-crypto';
export { failoverRunbook } from './failover-runbook';
export { readinessCheck } from './readiness-check';
export { regionEvacuation } from './region-evacuation';
export { rejoinRunbook } from './rejoin-runbook';
