/** Every wire name of the public contract (README: Running an incident), written once. */
import type { StepName } from './steps';

export const TASK_QUEUE = 'geofailover';

/** Task queue a probe worker polls in one application region. */
export function probeTaskQueue(region: string): string {
  return `geofailover-probe-${region}`;
}

export const WORKFLOW_TYPES = {
  failoverRunbook: 'failoverRunbook',
  rejoinRunbook: 'rejoinRunbook',
  readinessCheck: 'readinessCheck',
  regionEvacuation: 'regionEvacuation',
} as const;

export const workflowIds = {
  failover: (group: string): string => `failover/${group}`,
  rehearsal: (group: string): string => `rehearsal/${group}`,
  rejoin: (group: string): string => `rejoin/${group}`,
  readiness: (group: string): string => `readiness/${group}`,
  evacuation: (region: string): string => `evacuate/${region}`,
};

/**
 * Temporal Schedule ids. A schedule's runs get the workflow id of its action plus `-<nominal time, RFC 3339>`:
 * the rehearsal schedule's action id is `workflowIds.rehearsal(group)`, so its runs are
 * `rehearsal/<group>-2027-01-05T10:00:00Z`.
 */
export const scheduleIds = {
  rehearsal: (group: string): string => `rehearsal-schedule/${group}`,
};

/** Runbook steps, in order: derived from the step table (./steps), the one place steps are defined. */
export { STEP_NAMES, type StepName } from './steps';

export const STEP_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'skipped', 'waiting'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** Custom search attributes the dev server and production namespaces register. */
export const SEARCH_ATTRIBUTES = {
  group: { name: 'FailoverGroup', type: 'Keyword' },
  failedRegion: { name: 'FailedRegion', type: 'Keyword' },
  phase: { name: 'RunbookPhase', type: 'Keyword' },
} as const;

/** Values of the RunbookPhase search attribute and of `status().phase`, as the run moves. */
export const RUNBOOK_PHASES = [
  /** validate-input, membership, memory, firewall */
  'validating',
  /** traffic-reroute, verify */
  'rerouting',
  'awaiting-recovery',
  /** a rehearsal's hold: traffic stays drained from the region until the hold ends (time, or endRehearsal) */
  'holding',
  /** an approval gate (approval-unlink, approval-rejoin) is open */
  'awaiting-approval',
  /** a step failed after its retries; its intervention gate is open */
  'intervention',
  'unlinking',
  'rejoining',
  'failing-back',
  'completed',
  'aborted',
  'stopped',
  'refused',
] as const;
export type RunbookPhase = (typeof RUNBOOK_PHASES)[number];

/** Name of the intervention gate a failed step opens (OpenGate.gate, and the optional `gate` of a decision). */
export function interventionGateName(step: StepName): string {
  return `intervention:${step}`;
}
