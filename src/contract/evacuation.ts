// `regionEvacuation` (id `evacuate/<region>`): one child failoverRunbook per group with a member in the region.
// Its input, its messages and the aggregate `status` it answers. Pure: safe in workflow code.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RunbookPhase } from './names';
import type { Proof } from './policy';
import type { RunbookOutcome, RunbookTuning } from './runbook';
import type { AbortPayload, OpenGate } from './types';

/** How the unlink gates of an evacuation's children are approved (configuration: `evacuation.unlinkApproval`). */
export const UNLINK_APPROVAL_POLICIES = ['per-group', 'batch'] as const;
export type UnlinkApprovalPolicy = (typeof UNLINK_APPROVAL_POLICIES)[number];

/** Children before their traffic reroute at once, unless the input says otherwise. */
export const DEFAULT_EVACUATION_CONCURRENCY = 10;
export const MAX_EVACUATION_CONCURRENCY = 200;
/** Groups one evacuation handles (its history grows with each child's progress). */
export const MAX_EVACUATION_GROUPS = 500;
/** Groups one batch approval may name: each is a database id among the statement's targets. */
export const MAX_BATCH_GROUPS = 32;

/**
 * Input of `regionEvacuation`: names only, like the runbook's. The groups, people and roles come from the worker's
 * configuration. `request` is the commander's signed start of `evacuate/<region>` (detail.region); `starts` holds
 * the same commander's signed start of each group's `failover/<group>`: every child is an ordinary, signed
 * failoverRunbook and passes the runbook's own checks.
 */
export interface RegionEvacuationInput {
  region: string;
  reason: string;
  request: Proof;
  /** group → the commander's signed start of failover/<group>, naming the group's database in the region */
  starts: Record<string, Proof>;
  /** children still before their traffic reroute at once; default 10 */
  concurrency?: number;
  /** passed to every child (test and drill tuning) */
  tuning?: RunbookTuning;
}

/** One group the evacuation acts on, as the worker's configuration names it. */
export interface EvacuationGroup {
  group: string;
  /** the group's database in the evacuated region */
  databaseId: string;
}

/** What the worker's configuration says about an evacuation of one region (the planEvacuation activity). */
export interface EvacuationPlan {
  region: string;
  groups: EvacuationGroup[];
  unlinkApproval: UnlinkApprovalPolicy;
  /** group → commanders and approvers (who may abort, who may approve a batch) */
  roles: Record<string, { commanders: string[]; approvers: string[] }>;
  /** person → OpenSSH public key lines of everyone holding a role in one of the groups */
  people: Record<string, string[]>;
}

/** The activity regionEvacuation calls (the main worker registers it). */
export interface EvacuationActivities {
  /** The groups with a member in `region` (configuration order), their roles and people, and the approval policy. */
  planEvacuation(input: { region: string }): Promise<EvacuationPlan>;
}

/** Where one child is, as the evacuation sees it. */
export type EvacuationChildPhase = 'queued' | 'starting' | RunbookPhase | 'not-started';

export interface EvacuationChild {
  group: string;
  workflowId: string;
  runId?: string;
  phase: EvacuationChildPhase;
  /** start → traffic rerouted of this child */
  rtoMs?: number;
  /** the gate the child waits at, when one is open */
  openGate?: Pick<OpenGate, 'gate' | 'kind' | 'step' | 'instance'>;
  outcome?: RunbookOutcome;
  summary?: string;
  /** the last progress report taken (run id and sequence number) */
  reported?: { runId: string; seq: number };
}

export type EvacuationPhase = 'validating' | 'evacuating' | 'aborting' | 'completed' | 'aborted' | 'refused';

export interface EvacuationStatus {
  region: string;
  runId: string;
  phase: EvacuationPhase;
  requestedBy?: string;
  reason?: string;
  concurrency: number;
  unlinkApproval: UnlinkApprovalPolicy;
  startedAt: string;
  groups: EvacuationChild[];
  /** phase → how many children are in it */
  byPhase: Record<string, number>;
  /** the children waiting at a gate, by workflow id */
  gatesOpen: { workflowId: string; group: string; gate: string }[];
  /** batch approvals and aborts the evacuation refused or forwarded */
  actions: EvacuationAction[];
  /** why validation refused the evacuation */
  refusal?: string;
}

export interface EvacuationAction {
  action: 'abort' | 'approve-batch';
  by: string;
  at: string;
  accepted: boolean;
  /** what it did, or why it was refused */
  detail: string;
  groups?: string[];
}

export type EvacuationOutcome = 'completed' | 'partial' | 'aborted' | 'refused';

export interface EvacuationResult {
  outcome: EvacuationOutcome;
  summary: string;
  status: EvacuationStatus;
}

/** A child's progress, sent by the child to its evacuation at each phase change. */
export interface ChildProgress {
  workflowId: string;
  /** the run that reports, and its report count: signals may arrive out of order, and a stale one is ignored */
  runId?: string;
  seq?: number;
  phase: RunbookPhase;
  rtoMs?: number;
  openGate?: EvacuationChild['openGate'];
}

/**
 * One signed statement approving the unlink gates of many children: action `approve`, workflowId
 * `evacuate/<region>`, this evacuation's run id, gate `approval-unlink`, targets the listed groups' databases in the
 * region, detail.groups the comma-separated group names.
 */
export interface BatchApprovalPayload {
  approver: string;
  groups: string[];
  comment?: string;
  proof: Proof;
}

export const evacuationStatusQuery = defineQuery<EvacuationStatus>('status');
export const evacuationAbortSignal = defineSignal<[AbortPayload]>('abort');
export const childProgressSignal = defineSignal<[ChildProgress]>('childProgress');
export const approveBatchSignal = defineSignal<[BatchApprovalPayload]>('approveBatch');
/** The signal an evacuation sends its children with a batch approval that names them. */
export const batchApprovalSignal = defineSignal<[BatchApprovalPayload]>('approveBatch');
