// Intervention gates: a step that still fails after its retries pauses here instead of failing the
// workflow. `intervene retry` runs it again, `abort` stops the runbook, `skip` goes on without it once
// approvers agree (quorum.intervention, four-eyes). Pure, except for reading Temporal failure classes.
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import type { DecideResult } from '../../contract/messages';
import { interventionGateName, workflowIds } from '../../contract/names';
import type { StepName } from '../../contract/names';
import type { GateRecord, InterventionAction, OpenGate } from '../../contract/types';
import {
  ApprovalGate,
  eligibleApprovers,
  interventionCommands,
  sameName,
  type GateRules,
  type VoteRequest,
} from './gate';

/** Why a step failed, as the status and the gate show it. */
export interface StepFailureInfo {
  /** contract failure type (AzureBadRequest, ProbeFailed, ...) or a Temporal timeout type */
  type: string;
  message: string;
  details?: unknown;
}

/** A step's own finding that it cannot go on (a blocked probe, a group that did not resynchronise). */
export class StepFailure extends Error {
  constructor(
    message: string,
    readonly type: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'StepFailure';
  }
}

/** The failure of an attempt, in words: the Azure code and message, or which timeout fired and why. */
export function describeFailure(err: unknown): StepFailureInfo {
  if (err instanceof StepFailure) return { type: err.type, message: err.message, details: err.details };
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  const activity = err instanceof ActivityFailure ? `${err.activityType}: ` : '';
  if (cause instanceof TimeoutFailure) {
    const last = cause.cause?.message ?? cause.failure?.cause?.message;
    return {
      type: `Timeout:${cause.timeoutType}`,
      message: `${activity}${cause.timeoutType} timeout${last ? `; last attempt: ${last}` : ''}`,
    };
  }
  if (cause instanceof ApplicationFailure) {
    return {
      type: cause.type ?? 'ApplicationFailure',
      message: `${activity}${cause.message}`,
      details: cause.details?.length ? cause.details : undefined,
    };
  }
  return { type: 'Error', message: `${activity}${cause instanceof Error ? cause.message : String(cause)}` };
}

export type InterventionOutcome = 'retry' | 'skipped' | 'aborted' | 'timed-out';

/** An `intervene` whose signature the runbook has verified: `by` is the signer. */
export interface InterventionRequest {
  action: InterventionAction;
  by: string;
  comment?: string;
  at: string;
  fingerprint?: string;
}

export class InterventionGate {
  readonly kind = 'intervention' as const;
  readonly name: string;
  readonly interventions: InterventionRequest[] = [];
  /** skip approvals asked for so far; the last one is pending while `skipPending` */
  private readonly skipGates: ApprovalGate[] = [];
  outcome?: InterventionOutcome;
  decidedAt?: string;
  escalatesAt?: string;
  escalatedAt?: string;
  expiresAt?: string;
  escalation?: GateRecord['escalation'];
  notifications?: GateRecord['notifications'];

  constructor(
    readonly step: StepName,
    readonly failure: StepFailureInfo,
    readonly rules: GateRules,
    readonly requestedAt: string,
    /** which opening of a gate over the run; a signed answer names it */
    readonly instance: number,
    /** who may answer (retry, skip, abort): commanders and approvers */
    readonly answerers: readonly string[],
  ) {
    this.name = interventionGateName(step);
  }

  /** Intervention answers authorize no resource; a skip's approvals neither. */
  readonly targets: string[] = [];

  get decided(): boolean {
    return this.outcome !== undefined;
  }

  private get pendingSkip(): ApprovalGate | undefined {
    const last = this.skipGates[this.skipGates.length - 1];
    return last && !last.decided ? last : undefined;
  }

  /** `intervene`: retry and abort decide at once; skip opens an approval (quorum.intervention). */
  intervene(request: InterventionRequest): DecideResult {
    if (this.outcome) {
      return {
        accepted: false,
        reason: `gate ${this.name} was already decided (${this.outcome} at ${this.decidedAt})`,
      };
    }
    if (!this.answerers.some((a) => sameName(a, request.by))) {
      return {
        accepted: false,
        reason:
          `${request.by} is neither a commander nor an approver of group ${this.rules.group} ` +
          `(${this.answerers.join(', ')})`,
      };
    }
    if (request.action === 'skip' && this.pendingSkip) {
      return { accepted: false, reason: `a skip of ${this.step} already waits for approval` };
    }
    this.interventions.push(request);
    switch (request.action) {
      case 'retry':
        this.close('retry', request.at);
        return { accepted: true, detail: `${this.step} runs again` };
      case 'abort':
        this.close('aborted', request.at);
        return { accepted: true, detail: 'the runbook stops before its next step' };
      case 'skip':
        // Four-eyes: whoever asked for the skip approves none of it.
        this.skipGates.push(
          new ApprovalGate(
            this.name,
            this.step,
            { ...this.rules, alsoExcluded: [...(this.rules.alsoExcluded ?? []), request.by] },
            request.at,
            { skip: this.step, requestedBy: request.by },
            this.instance,
          ),
        );
        return { accepted: true, detail: `skipping ${this.step} needs ${this.rules.quorum} approval(s)` };
    }
  }

  /** approve / reject / decide: counts only toward a pending skip. */
  vote(request: VoteRequest): DecideResult {
    if (this.outcome) {
      return {
        accepted: false,
        reason: `gate ${this.name} was already decided (${this.outcome} at ${this.decidedAt})`,
      };
    }
    const skip = this.pendingSkip;
    if (!skip) {
      return {
        accepted: false,
        reason:
          `gate ${this.name} waits for \`intervene retry|skip|abort\`; ` +
          'approvals count only after someone asks to skip the step',
      };
    }
    const result = skip.vote(request);
    if (skip.outcome === 'approved') this.close('skipped', request.at);
    if (skip.outcome === 'rejected') {
      return { accepted: true, detail: `skip of ${this.step} rejected; the gate waits for another answer` };
    }
    return result;
  }

  close(outcome: InterventionOutcome, at: string): void {
    if (this.outcome) return;
    this.outcome = outcome;
    this.decidedAt = at;
  }

  /** Who approved the skip, for the step's actor. */
  get skipApprovers(): string[] {
    return this.skipGates.find((g) => g.outcome === 'approved')?.approvals ?? [];
  }

  record(): GateRecord {
    return {
      gate: this.name,
      kind: 'intervention',
      instance: this.instance,
      requestedAt: this.requestedAt,
      quorum: this.rules.quorum,
      eligibleApprovers: eligibleApprovers(this.rules),
      votes: this.skipGates.flatMap((g) => g.votes),
      request: { failure: this.failure },
      escalatedAt: this.escalatedAt,
      ...(this.escalation ? { escalation: this.escalation } : {}),
      ...(this.notifications?.length ? { notifications: [...this.notifications] } : {}),
      outcome: this.outcome,
      decidedAt: this.decidedAt,
      interventions: this.interventions.map((i) => ({ ...i })),
    };
  }

  openGate(workflowId?: string): OpenGate {
    const skip = this.pendingSkip;
    const open: OpenGate = {
      gate: this.name,
      instance: this.instance,
      targets: [],
      step: this.step,
      kind: 'intervention',
      requestedAt: this.requestedAt,
      quorum: this.rules.quorum,
      approvals: skip?.approvals ?? [],
      request: { failure: this.failure },
      escalatesAt: this.escalatesAt,
      escalatedAt: this.escalatedAt,
      expiresAt: this.expiresAt,
      howToAnswer: interventionCommands(workflowId ?? workflowIds.failover(this.rules.group), this.rules.group),
    };
    if (skip) {
      open.skipRequestedBy = this.interventions[this.interventions.length - 1]?.by;
      open.eligibleApprovers = skip.openGate(workflowId).eligibleApprovers;
    }
    return open;
  }
}
