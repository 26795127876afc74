import type { StepName, StepStatus } from './names';

export interface ApprovalPayload {
  approver: string;
  comment?: string;
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
}

export interface OpenGate {
  gate: string;
  requestedAt: string;
  quorum: number;
  approvals: string[];
  request?: unknown;
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
