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
