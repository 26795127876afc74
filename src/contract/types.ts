import type { StepName, StepStatus } from './names';

export interface ApprovalPayload {
  approver: string;
  comment?: string;
  /**
   * The gate this decision is meant for (OpenGate.gate). Optional; when given and another gate is open,
   * the decision is refused instead of landing on a gate the approver did not see.
   */
  gate?: string;
}

export interface RegionRecoveredPayload {
  by: string;
  comment?: string;
}

export interface UnlinkNowPayload {
  by: string;
  reason: string;
}

export interface AbortPayload {
  by: string;
  reason: string;
}

export type InterventionAction = 'retry' | 'skip' | 'abort';

export interface InterventionPayload {
  action: InterventionAction;
  by: string;
  comment?: string;
}

export interface DecidePayload {
  decision: 'approve' | 'reject';
  approver: string;
  comment?: string;
  /** as ApprovalPayload.gate */
  gate?: string;
}

/** An approve, reject, decide, intervene, unlinkNow or regionRecovered the runbook refused, kept in the step log. */
export interface RefusedAttempt {
  /** who asked (the payload's approver or by; '(unknown)' when the payload did not say) */
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

/** One accepted vote at a gate. */
export interface GateVote {
  approver: string;
  decision: 'approve' | 'reject';
  via: 'decide' | 'signal';
  at: string;
  comment?: string;
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
  interventions?: { action: InterventionAction; by: string; at: string; comment?: string }[];
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
  /** every refused approve/reject/decide/intervene aimed at this step's gate, or sent while it was current */
  refusedAttempts?: RefusedAttempt[];
}

export interface OpenGate {
  gate: string;
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
