import type { StepName, StepStatus } from './names';
import type { Proof } from './policy';

/*
 * Every human action carries `proof`: a statement signed by the person acting (see Proof). The names in a
 * payload (approver, by) must be the statement's signer; they are kept for people reading the history.
 */

export interface ApprovalPayload {
  approver: string;
  comment?: string;
  proof: Proof;
  /**
   * The gate this decision is meant for (OpenGate.gate). Optional; when given and another gate is open,
   * the decision is refused instead of landing on a gate the approver did not see.
   */
  gate?: string;
}

export interface RegionRecoveredPayload {
  by: string;
  comment?: string;
  proof: Proof;
}

/** A commander's signed end of a rehearsal's hold: traffic may come back (failback) now. */
export interface EndRehearsalPayload {
  by: string;
  comment?: string;
  proof: Proof;
}

export interface UnlinkNowPayload {
  by: string;
  reason: string;
  proof: Proof;
}

export interface AbortPayload {
  by: string;
  reason: string;
  proof: Proof;
}

export type InterventionAction = 'retry' | 'skip' | 'abort';

export interface InterventionPayload {
  action: InterventionAction;
  by: string;
  comment?: string;
  proof: Proof;
}

export interface DecidePayload {
  decision: 'approve' | 'reject';
  approver: string;
  comment?: string;
  proof: Proof;
  /** as ApprovalPayload.gate */
  gate?: string;
}

/** An approve, reject, decide, intervene, unlinkNow or regionRecovered the runbook refused, kept in the step log. */
export interface RefusedAttempt {
  /**
   * who asked: the verified signer, else the payload's approver or by as claimed (truncated, marked
   * "(unverified)"), or '(unknown)'
   */
  by: string;
  /** what was asked: 'approve', 'reject', 'intervene retry', 'unlinkNow', ... */
  action: string;
  /** 'decide' (update) or 'signal' */
  via: 'decide' | 'signal';
  /** why it was refused, in a sentence */
  reason: string;
  at: string;
  /** the gate it was meant for, when one was open or named */
  gate?: string;
}

/** One accepted vote at a gate: always a verified signature. */
export interface GateVote {
  approver: string;
  decision: 'approve' | 'reject';
  via: 'decide' | 'signal';
  at: string;
  comment?: string;
  /** `SHA256:…` of the key that signed it */
  fingerprint?: string;
  /** the signed statement, for auditors (`ssh-keygen -Y verify`) */
  proof?: Proof;
}

/** Everything that happened at one gate, kept in its step's record. */
export interface GateRecord {
  gate: string;
  kind: 'approval' | 'intervention';
  requestedAt: string;
  quorum: number;
  /** who may approve: the group's approvers except the requester */
  eligibleApprovers: string[];
  votes: GateVote[];
  /** what the approvers are asked to decide on (evidence, failure, blast radius) */
  request?: unknown;
  escalatedAt?: string;
  /** approved, rejected, timed-out, withdrawn, aborted; for intervention gates retry, skipped */
  outcome?: string;
  decidedAt?: string;
  /** intervention gates: the `intervene` answers, in order */
  interventions?: { action: InterventionAction; by: string; at: string; comment?: string; fingerprint?: string }[];
  /** which opening of a gate this is, counted over the run (a statement names it) */
  instance?: number;
  /** resource ids an approval of this gate must authorize */
  targets?: string[];
  /** the escalation, when it happened: delivered or not, honestly */
  escalation?: { delivered: boolean; attempts?: number; target?: string; error?: string };
  /** the notifications about this gate (approval or intervention needed, escalation), one per target */
  notifications?: NotificationDelivery[];
}

/** What the runbook tells people about. */
export type NotificationEvent =
  | 'approval-needed'
  | 'intervention-needed'
  | 'escalation'
  | 'run-ended'
  /** a schedule started a rehearsal: its gates will wait on people */
  | 'rehearsal-started';

/** One target's delivery of one notification: recorded in the gate record or the run's result. */
export interface NotificationDelivery {
  event: NotificationEvent;
  kind: 'slack' | 'teams' | 'json';
  delivered: boolean;
  /** POSTs made (0: unusable reference, or refused before sending) */
  attempts: number;
  statusCode?: number;
  /** why it was not delivered; never holds the URL's path, query or credentials */
  error?: string;
  /** the reference and the origin only */
  target: string;
}

export interface StepRecord {
  step: StepName;
  status: StepStatus;
  startedAt?: string;
  endedAt?: string;
  attempts: number;
  actor?: string;
  summary: string;
  evidence?: unknown;
  /** every gate opened at this step (approval steps, or an intervention after a failure), in order */
  gates?: GateRecord[];
  /**
   * refused approve/reject/decide/intervene/... aimed at this step's gate, or sent while it was current: the
   * first ones only (bounded), with `refusedTotal` counting all of them
   */
  refusedAttempts?: RefusedAttempt[];
  refusedTotal?: number;
}

export interface OpenGate {
  gate: string;
  /** which opening of this gate (a signed decision names gate and instance) */
  instance?: number;
  /** resource ids a signed approval must name in `targets` */
  targets?: string[];
  requestedAt: string;
  quorum: number;
  approvals: string[];
  request?: unknown;
  /** the step the gate belongs to */
  step?: StepName;
  kind?: 'approval' | 'intervention';
  /** who may still approve (authorized, not the requester, not yet voted) */
  eligibleApprovers?: string[];
  /** when it escalates (or escalated) if nobody decides */
  escalatesAt?: string;
  escalatedAt?: string;
  /** when it stops safely after escalating */
  expiresAt?: string;
  /** intervention gates: a skip was asked for and now waits for approvals */
  skipRequestedBy?: string;
  /** what a person can type to answer it */
  howToAnswer?: string[];
}

export interface RunbookStatus {
  group: string;
  failedRegion: string;
  /** the run a signed statement must name */
  runId?: string;
  /** the verified signer of the start */
  requestedBy?: string;
  /** digest of the worker's policy this run acts under */
  policyDigest?: string;
  /**
   * Set once the incident has continued as new (a long outage keeps each run's history bounded): which run of the
   * incident this is, its first run, and when the incident started. The step log covers every run.
   */
  continued?: { run: number; firstRunId: string; incidentStartedAt: string };
  /** how the run was started, when it is not an incident: `rehearsal` (a planned failover) or `drill` */
  mode?: 'rehearsal' | 'drill';
  phase: string;
  currentStep: StepName | null;
  steps: StepRecord[];
  openGate?: OpenGate;
}

/** What one read of a geo-replication member shows (resource ids only, never keys). */
export interface MemberSnapshot {
  region: string;
  databaseId: string;
  /** false when ARM could not be reached for this member (region outage) */
  reachable: boolean;
  error?: { code: string; message: string };
  provisioningState?: string;
  resourceState?: string;
  groupNickname?: string;
  linkedDatabases?: { id: string; state: string }[];
  /** settings that must match across the group */
  settings?: {
    sku: string;
    capacity?: number;
    modules: string[];
    evictionPolicy?: string;
    clusteringPolicy?: string;
    clientProtocol?: string;
    highAvailability?: string;
  };
  hostName?: string;
  port?: number;
}
