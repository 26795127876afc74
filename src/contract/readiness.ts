import type { Duration } from '@temporalio/common';
import type { MemberSnapshot } from './types';

/** Timeouts of the read activities (describe a member, read memory); production defaults when omitted. */
export interface ReadActivityTimeouts {
  /** One attempt of one read. Default '30 seconds'. */
  startToClose?: Duration;
  /** All attempts of one read, retries included; after it the member counts as unreachable. Default '2 minutes'. */
  scheduleToClose?: Duration;
  /** Delay before the first retry; it doubles on each retry. Default '1 second'. */
  initialRetryInterval?: Duration;
}

/** One member of a geo-replication group, as the configuration names it. */
export interface GroupMember {
  region: string;
  /** ARM resource id of the member's database */
  databaseId: string;
}

/**
 * Input of the `readinessCheck` workflow: the group's name only. Its members, Traffic Manager endpoints,
 * application regions, people and thresholds come from the worker's configuration (loadPolicy), as the runbook's do.
 */
export interface ReadinessCheckInput {
  /** the configuration's name of the group */
  group: string;
  activityTimeouts?: ReadActivityTimeouts;
  /** how long a probe waits for its region's probe worker to pick it up; default 30 seconds */
  probeScheduleToStart?: Duration;
  /**
   * Set by the readiness schedule: compare the verdict with the schedule's previous completed check, and tell the
   * group's webhook when it crossed between fail and not-fail.
   */
  notifyOnChange?: boolean;
}

/** The checks of one readiness run, in the order they are reported. */
export const READINESS_CHECKS = [
  'policy',
  'membership',
  'settings',
  'memory-headroom',
  'probes',
  'traffic-manager',
  'quorum',
  'probe-workers',
] as const;
export type ReadinessCheckName = (typeof READINESS_CHECKS)[number];

export type ReadinessVerdict = 'pass' | 'warn' | 'fail';

/** One check's outcome: `reasons` says why (one sentence each; for a pass, what was seen). */
export interface ReadinessCheckResult {
  check: ReadinessCheckName;
  verdict: ReadinessVerdict;
  reasons: string[];
}

/** A change of the scheduled check's verdict, and the webhook's delivery. */
export interface ReadinessChange {
  from: ReadinessVerdict | 'none';
  to: ReadinessVerdict;
  /** the previous completed check it compares with */
  previousWorkflowId?: string;
  webhook?: { delivered: boolean; attempts: number; statusCode?: number; error?: string; target?: string };
}

/** Result of the `readinessCheck` workflow. */
export interface ReadinessReport {
  group: string;
  /** the worst of the checks' verdicts */
  verdict: ReadinessVerdict;
  /** true unless a check failed: the group could fail over right now (warnings aside) */
  ready: boolean;
  /** ISO time of the check (workflow time) */
  checkedAt: string;
  /** digest of the worker's policy the check read, when the group was found */
  policyDigest?: string;
  checks: ReadinessCheckResult[];
  /** one snapshot per configured member, in configuration order */
  members: MemberSnapshot[];
  /** the reasons of every check that failed or warned, one sentence each */
  problems: string[];
  /** scheduled checks (`notifyOnChange`): the verdict crossed between fail and not-fail since the previous check */
  change?: ReadinessChange;
}

/** Activity pollers of one task queue, as the Temporal server describes it. */
export interface TaskQueuePollers {
  taskQueue: string;
  /** activity pollers the server saw recently; absent when the server could not be asked */
  pollers?: number;
  /** identities of the pollers (bounded) */
  identities?: string[];
  error?: string;
}

/** The verdict of the schedule's previous completed check, when there is one. */
export type PreviousReadiness =
  | { found: false; reason: string }
  | { found: true; workflowId: string; runId: string; verdict: ReadinessVerdict; checkedAt: string };

/** Reads of the Temporal server itself that the readiness check makes (on the main worker). */
export interface ReadinessActivities {
  /** Activity pollers of each task queue (DescribeTaskQueue); never throws for a queue the server will not describe. */
  countActivityPollers(input: { taskQueues: string[] }): Promise<TaskQueuePollers[]>;
  /**
   * The verdict of the newest completed check the schedule started before the calling run (the schedule's recent
   * actions); `found: false` when there is none.
   */
  previousReadiness(input: { scheduleId: string }): Promise<PreviousReadiness>;
}
