// Approval gates (approval-unlink, approval-rejoin, and the skip of an intervention): who may vote,
// quorum of distinct approvers, four-eyes, and what an escalation says. Pure; the waiting (timers,
// escalation activity) lives in runbook.ts.
import type { DecideResult } from '../../contract/messages';
import type { StepName } from '../../contract/names';
import { workflowIds } from '../../contract/names';
import type { Proof } from '../../contract/policy';
import type { GateRecord, GateVote, OpenGate } from '../../contract/types';

export interface GateRules {
  group: string;
  /** the group's authorized approvers */
  approvers: readonly string[];
  /** who started the incident: never approves its gates (four-eyes) */
  requestedBy: string;
  /** who else may not approve this gate: whoever asked to skip a step approves nothing of that skip */
  alsoExcluded?: readonly string[];
  /** distinct approvals needed */
  quorum: number;
}

/** A vote whose signature the runbook has verified: `approver` is the signer. */
export interface VoteRequest {
  decision: 'approve' | 'reject';
  approver: string;
  comment?: string;
  via: 'decide' | 'signal';
  at: string;
  fingerprint?: string;
  proof?: Proof;
}

export type ApprovalOutcome = 'approved' | 'rejected' | 'timed-out' | 'withdrawn' | 'aborted';

// Names compare exactly: the configuration spells each person once (lower case), statements name that
// spelling, and the dry-run plan and the workflow use this same rule.
export function sameName(a: string, b: string): boolean {
  return a === b;
}

function excluded(rules: GateRules, name: string): boolean {
  return sameName(name, rules.requestedBy) || (rules.alsoExcluded ?? []).some((x) => sameName(x, name));
}

/** Approvers who may approve: authorized, and neither the requester nor whoever asked for a skip. */
export function eligibleApprovers(rules: GateRules): string[] {
  return rules.approvers.filter(
    (a, i) => !excluded(rules, a) && rules.approvers.findIndex((b) => sameName(a, b)) === i,
  );
}

/**
 * Why `approver` may not vote `decision` at a gate with these rules and these votes so far; undefined when
 * they may. Rejecting is open to every authorized approver, the requester included: stopping is always safe.
 */
export function voteRefusal(
  rules: GateRules,
  votes: readonly GateVote[],
  decision: string,
  approver: string,
): string | undefined {
  if (!rules.approvers.some((a) => sameName(a, approver))) {
    return `${approver} is not an approver of group ${rules.group} (approvers: ${rules.approvers.join(', ')})`;
  }
  if (decision === 'approve' && excluded(rules, approver)) {
    const others = eligibleApprovers(rules);
    const role = sameName(approver, rules.requestedBy) ? 'requested this incident' : 'asked for this skip';
    return (
      `${approver} ${role} and cannot approve it (four-eyes rule); ` +
      `ask ${others.length ? others.join(' or ') : 'another approver'}`
    );
  }
  const earlier = votes.find((v) => sameName(v.approver, approver));
  if (earlier) {
    return `${approver} already voted (${earlier.decision} at ${earlier.at}); the quorum needs distinct approvers`;
  }
  return undefined;
}

/** A gate that waits for a quorum of distinct authorized approvals; one authorized reject stops it. */
export class ApprovalGate {
  readonly kind = 'approval' as const;
  readonly votes: GateVote[] = [];
  outcome?: ApprovalOutcome;
  decidedAt?: string;
  escalatesAt?: string;
  escalatedAt?: string;
  expiresAt?: string;
  escalation?: GateRecord['escalation'];
  notifications?: GateRecord['notifications'];

  constructor(
    readonly name: string,
    readonly step: StepName,
    readonly rules: GateRules,
    readonly requestedAt: string,
    readonly request: unknown,
    /** which opening of a gate over the run; a signed decision names it */
    readonly instance: number,
    /** resource ids an approval must authorize */
    readonly targets: string[] = [],
  ) {}

  get approvals(): string[] {
    return this.votes.filter((v) => v.decision === 'approve').map((v) => v.approver);
  }

  get decided(): boolean {
    return this.outcome !== undefined;
  }

  /** Applies a vote, or says why it is refused (the caller records refusals in the step log). */
  vote(request: VoteRequest): DecideResult {
    if (this.outcome) {
      return {
        accepted: false,
        reason: `gate ${this.name} was already decided (${this.outcome} at ${this.decidedAt})`,
      };
    }
    const refusal = voteRefusal(this.rules, this.votes, request.decision, request.approver);
    if (refusal) return { accepted: false, reason: refusal };
    const vote: GateVote = { approver: request.approver, decision: request.decision, via: request.via, at: request.at };
    if (request.comment !== undefined) vote.comment = request.comment;
    if (request.fingerprint !== undefined) vote.fingerprint = request.fingerprint;
    if (request.proof !== undefined) vote.proof = request.proof;
    this.votes.push(vote);
    if (request.decision === 'reject') {
      this.close('rejected', request.at);
      return { accepted: true, detail: `${request.approver} rejected ${this.name}` };
    }
    const count = this.approvals.length;
    if (count >= this.rules.quorum) this.close('approved', request.at);
    return { accepted: true, detail: `approval ${count} of ${this.rules.quorum} recorded at ${this.name}` };
  }

  close(outcome: ApprovalOutcome, at: string): void {
    if (this.outcome) return;
    this.outcome = outcome;
    this.decidedAt = at;
  }

  /** the signed approvals, for the activity that the gate allows */
  get approvalProofs(): Proof[] {
    return this.votes.filter((v) => v.decision === 'approve' && v.proof).map((v) => v.proof as Proof);
  }

  record(): GateRecord {
    return {
      gate: this.name,
      kind: 'approval',
      instance: this.instance,
      targets: [...this.targets],
      requestedAt: this.requestedAt,
      quorum: this.rules.quorum,
      eligibleApprovers: eligibleApprovers(this.rules),
      votes: [...this.votes],
      request: this.request,
      escalatedAt: this.escalatedAt,
      ...(this.escalation ? { escalation: this.escalation } : {}),
      ...(this.notifications?.length ? { notifications: [...this.notifications] } : {}),
      outcome: this.outcome,
      decidedAt: this.decidedAt,
    };
  }

  openGate(workflowId = workflowIds.failover(this.rules.group)): OpenGate {
    return {
      gate: this.name,
      instance: this.instance,
      targets: [...this.targets],
      step: this.step,
      kind: 'approval',
      requestedAt: this.requestedAt,
      quorum: this.rules.quorum,
      approvals: this.approvals,
      eligibleApprovers: eligibleApprovers(this.rules).filter((a) => !this.votes.some((v) => sameName(v.approver, a))),
      request: this.request,
      escalatesAt: this.escalatesAt,
      escalatedAt: this.escalatedAt,
      expiresAt: this.expiresAt,
      howToAnswer: approvalCommands(workflowId, this.rules.group),
    };
  }
}

/** How to reach the runbook from the geofailover CLI: the group for a failover, else the workflow id. */
function cliTarget(workflowId: string, group: string): string {
  return workflowId === workflowIds.failover(group) ? group : workflowId;
}

/** The exact commands that approve or reject the open gate: our CLI, and the plain Temporal CLI. */
export function approvalCommands(workflowId: string, group: string): string[] {
  const target = cliTarget(workflowId, group);
  return [
    `geofailover approve ${target} --key KEY_FILE`,
    `geofailover approve ${target} --key KEY_FILE --print-payload > approve.json && ` +
      `temporal workflow signal --workflow-id ${workflowId} --name approve --input-file approve.json`,
    `geofailover reject ${target} --key KEY_FILE --comment TEXT`,
  ];
}

/** The commands that answer an intervention gate. */
export function interventionCommands(workflowId: string, group: string): string[] {
  const target = cliTarget(workflowId, group);
  return [
    `geofailover intervene ${target} --action retry|skip|abort --key KEY_FILE`,
    `geofailover intervene ${target} --action retry --key KEY_FILE --print-payload > intervene.json && ` +
      `temporal workflow signal --workflow-id ${workflowId} --name intervene --input-file intervene.json`,
    `a skip then needs approval by someone else: geofailover approve ${target} --key KEY_FILE`,
  ];
}

/** A gate as the escalation sees it. */
export interface EscalatingGate {
  name: string;
  kind: 'approval' | 'intervention';
  openGate(workflowId?: string): OpenGate;
}

/**
 * What an escalation says (workflow log line and webhook body): the gate, the workflow, what is asked,
 * who may answer and the exact commands to answer it.
 */
export function escalationNotice(
  gate: EscalatingGate,
  context: { workflowId: string; group: string; region: string },
): { message: string; body: Record<string, unknown> } {
  const open = gate.openGate(context.workflowId);
  const howToAnswer =
    gate.kind === 'approval'
      ? approvalCommands(context.workflowId, context.group)
      : interventionCommands(context.workflowId, context.group);
  const waitingFor =
    gate.kind === 'approval'
      ? `${open.quorum - open.approvals.length} more approval(s) from ${open.eligibleApprovers?.join(', ') || '(nobody eligible)'}`
      : 'an answer: intervene retry, skip (with approval) or abort';
  const message =
    `geofailover: gate ${gate.name} of ${context.workflowId} (group ${context.group}, region ${context.region}) ` +
    `has waited since ${open.requestedAt} and needs ${waitingFor}. Answer with: ${howToAnswer.join('  |  ')}`;
  return {
    message,
    body: {
      event: 'gate-escalated',
      gate: gate.name,
      kind: gate.kind,
      step: open.step,
      workflowId: context.workflowId,
      group: context.group,
      region: context.region,
      requestedAt: open.requestedAt,
      quorum: open.quorum,
      approvals: open.approvals,
      waitingFor,
      expiresAt: open.expiresAt,
      request: open.request,
      howToAnswer,
      text: message,
    },
  };
}
