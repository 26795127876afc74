/**
 * What `geofailover drill --evacuate N` adds to the drill's summary (its last NDJSON line under --json): the
 * evacuation as a whole, each group's RTO and outcome, and what the benchmark reads from it.
 */

export interface EvacuationDrillGroup {
  group: string;
  workflowId: string;
  outcome?: string;
  /** the child's start → its traffic rerouted, as the runbook measured it */
  rtoMs?: number;
  /** the evacuation's start → this group's traffic rerouted */
  reroutedAfterMs?: number;
  /** how many times this group waited at an intervention gate the drill then resolved */
  interventions: number;
  /** the group's own evidence package, relative to the evacuation's folder */
  evidence?: string;
  /** the group's final state as ARM shows it: every member linked, its endpoint enabled, one force-unlink */
  verified: boolean;
}

export interface EvacuationDrillSummary {
  workflowId: string;
  runId: string;
  region: string;
  /** the evacuation's own outcome (completed, partial, aborted, refused) */
  outcome?: string;
  /** how the unlink gates were approved: one signed batch per approver, or each group on its own */
  unlinkApproval: 'batch' | 'per-group';
  /** signed batch approvals sent (each names up to 32 groups) */
  batchApprovals: number;
  concurrency: number;
  groups: EvacuationDrillGroup[];
  /** outcome → how many groups ended so */
  byOutcome: Record<string, number>;
  /** intervention gates the drill saw opened and then resolved with a signed retry */
  interventionsResolved: number;
  /** the group whose force-unlink the drill made fail */
  failingGroup: string;
  /** the evacuation's start → every group's traffic rerouted */
  allReroutedMs?: number;
  /** the floor ARM's write bucket puts under rerouting every group: one write per group at 10 per second */
  writeBucketFloorMs: number;
  /** ARM answers 429 (the emulator's token buckets) during the drill */
  arm429s: number;
  /** failed activity attempts whose failure was a throttling (AzureThrottled or a 429), from the histories */
  throttledActivityFailures: number;
  /** the drill process's peak resident set (its workers, the emulator's ARM server), bytes */
  peakRssBytes: number;
}
