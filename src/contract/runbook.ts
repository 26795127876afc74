import type { Duration } from '@temporalio/common';
import type { Proof } from './policy';
import type { ReadActivityTimeouts } from './readiness';
import type { RunbookStatus } from './types';

/** A Traffic Manager endpoint, as the configuration names it. */
export interface EndpointRef {
  type: 'ExternalEndpoints' | 'AzureEndpoints' | 'NestedEndpoints';
  name: string;
}

/**
 * One geo-replication group exactly as the runbook acts on it: the worker's `loadPolicy` activity resolves it
 * from the worker's configuration, so the history shows what was acted on. Resource ids only.
 */
export interface GroupDefinition {
  /** the configuration's name for the group */
  name: string;
  /** member region → database resource id */
  members: Record<string, string>;
  trafficManager: { profileId: string; endpoints: Record<string, EndpointRef> };
  /** application region → (member region → HOST:PORT its probes use) */
  applicationRegions: Record<string, Record<string, string>>;
  /** who may start, abort, say unlinkNow or regionRecovered */
  commanders: string[];
  /** who may decide gates */
  approvers: string[];
  quorum: { unlink: number; rejoin: number; intervention: number };
  memoryThresholds: { elevatedPercent: number; criticalPercent: number };
  rejoinMethod: 'force-link' | 'recreate';
  /**
   * consecutive await-recovery polls that must pass (ARM answers, the database is Running, every application
   * region's probe passes) before the failed region counts as recovered; default 3
   */
  recoveryConfirmations?: number;
  /**
   * rehearsals of this group (mode `rehearsal`): `destructive` lets a rehearsal exercise force-unlink and rejoin,
   * behind the same gates; absent or false, a rehearsal records them as skipped and calls nothing destructive
   */
  rehearsal?: { destructive: boolean };
  durations: {
    /** how long a gate waits before it escalates */
    approvalTimeout: Duration;
    /** how long it waits after escalating before it stops safely */
    escalationTimeout: Duration;
    /** await-recovery re-reads memory and the failed member at this interval */
    recoveryPollInterval: Duration;
    /** the unlink trigger fires when the outage has lasted this long */
    maxOutageBeforeUnlink: Duration;
    /** how long rejoin waits for the group to list every member as Linked again */
    resyncTimeout: Duration;
    /** bound of each probe stage (TCP, TLS, AUTH, PING) */
    probeTimeout: Duration;
    /** the recovery time objective: the evidence report says whether the measured RTO met it; absent: none set */
    rtoTarget?: Duration;
  };
}

/** An incident id (FailoverRunbookInput.incident): a tracker's reference such as INC-4711, one short line. */
export const INCIDENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:#/-]{0,63}$/;

/**
 * Input of `failoverRunbook`: names only. The group's definition, people and roles come from the worker's
 * configuration (loadPolicy); whoever signed `request` is the requester, never an approver of it (four-eyes).
 */
export interface FailoverRunbookInput {
  /** the configuration's name of the group */
  group: string;
  failedRegion: string;
  reason: string;
  /** a commander's signed `start` statement for this workflow id, naming the failed member's database */
  request: Proof;
  /** run even though survivors' settings differ (the differences are still recorded) */
  acceptSettingsMismatch?: boolean;
  /** the incident's id in the organisation's tracker (e.g. INC-4711), shown by status and the evidence report */
  incident?: string;
  /**
   * `incident` (absent): the region has failed. `rehearsal`: a planned failover of a healthy region — every member
   * must answer, traffic drains from it and comes back; destructive steps only where the group's configuration
   * allows rehearsing them. Workflow id `rehearsal/<group>`. `drill`: an incident runbook on an injected outage
   * (`geofailover drill`); it behaves as `incident`, and the DR evidence counts it as a drill.
   */
  mode?: RunbookMode;
  /** rehearsal: how long traffic stays drained before failback; absent: until a commander's `endRehearsal` */
  hold?: Duration;
  /** test and drill tuning; production uses the defaults */
  tuning?: RunbookTuning;
}

export const RUNBOOK_MODES = ['incident', 'rehearsal', 'drill'] as const;
export type RunbookMode = (typeof RUNBOOK_MODES)[number];

export interface RunbookTuning {
  reads?: ReadActivityTimeouts;
  /** retry policy of mutating activities before an intervention gate opens; default 5 attempts */
  mutationMaximumAttempts?: number;
  mutationInitialRetryInterval?: Duration;
  /** how long a probe may wait for its region's probe worker to pick it up; default 2 minutes */
  probeScheduleToStart?: Duration;
  /** LRO poll interval inside force-unlink and rejoin activities; default the service's Retry-After */
  lroPollIntervalMs?: number;
  /**
   * await-recovery polls of one run before the incident continues as new (a fresh run, same workflow id); default
   * 400 (about 5,600 events). Temporal's own suggestion (history count or size) comes first either way.
   */
  pollsPerRun?: number;
  /** heartbeat timeout of long-running operations; default 60 s */
  heartbeatTimeout?: Duration;
  /**
   * traffic-failback: how long it waits, after enabling the endpoint, for Traffic Manager to report it Online
   * (CheckingEndpoint until the first health probe answers); default 5 minutes. Degraded fails at once.
   */
  failbackOnlineTimeout?: Duration;
  /**
   * failover's membership step: the whole budget (schedule-to-close) of the failed region's member read; default
   * 5 s. The step does not wait for it past the survivors' reads: a failed member that has not answered by then is
   * recorded as not answering (a finding, never a wait on the RTO path).
   */
  failedMemberRead?: Duration;
  /**
   * a rehearsal's replication-check: how long a canary written in one member may take to be read in every other
   * member (through the application regions' probe workers); default 60 s
   */
  replicationCheckTimeout?: Duration;
}

export interface RejoinRunbookInput {
  /** the configuration's name of the group */
  group: string;
  /** the region whose database was unlinked earlier and must rejoin */
  region: string;
  reason: string;
  /** as FailoverRunbookInput.incident */
  incident?: string;
  /** a commander's signed `start` statement for this workflow id, naming the rejoining database */
  request: Proof;
  tuning?: RunbookTuning;
}

/** How a runbook ended. */
export type RunbookOutcome =
  /** every step ran; traffic is back on the recovered region */
  | 'completed'
  /** an `abort` (signal or intervention) stopped it before the next destructive step */
  | 'aborted'
  /** a gate was rejected, or timed out after escalating, where the runbook cannot go on safely */
  | 'stopped'
  /** validation refused the input or the group (nothing was changed) */
  | 'refused';

export interface RunbookResult {
  outcome: RunbookOutcome;
  /** one sentence a commander reads first */
  summary: string;
  /** start → traffic rerouted, when traffic moved */
  rtoMs?: number;
  /** `rehearsal` or `drill` when the run was one (absent: an incident) */
  mode?: 'rehearsal' | 'drill';
  status: RunbookStatus;
}
