// What the runbook's message handlers act on. Handlers only mutate this state (no activities, no
// timers): the workflow's main flow reads it and acts. Everything here is rebuilt on replay from the
// signals and accepted updates in history, so a refused attempt recorded here is durable.
import type { DecideResult } from '../../contract/messages';
import type { RunbookPhase, StepName } from '../../contract/names';
import type { GroupDefinition } from '../../contract/runbook';
import type { RefusedAttempt, RunbookStatus } from '../../contract/types';
import { durationMs } from './durations';
import type { ApprovalGate, GateRules } from './gate';
import { sameName } from './gate';
import type { InterventionGate } from './intervention';
import { StepLog } from './step-log';
import { UnlinkTrigger } from './unlink-trigger';

export interface RunbookContext {
  group: GroupDefinition;
  /** the failed region (failoverRunbook) or the region that rejoins (rejoinRunbook) */
  region: string;
  requestedBy: string;
  workflowId: string;
}

export type Gate = ApprovalGate | InterventionGate;

interface Request {
  by: string;
  at: string;
  comment?: string;
}

export class RunbookState {
  readonly steps = new StepLog();
  readonly trigger: UnlinkTrigger;
  /** the gate people can answer now */
  gate?: Gate;
  readonly closedGates: Gate[] = [];
  /** phase of the main flow; an open gate shows instead */
  basePhase: RunbookPhase = 'validating';
  /** set once the runbook has ended */
  ended?: RunbookPhase;
  /** the failed region is back: `regionRecovered`, or the member answered a poll */
  recovered?: Request & { via: 'signal' | 'poll' };
  abortRequest?: Request & { reason: string };
  /** await-recovery has not ended yet: regionRecovered and unlinkNow still apply */
  recoveryOpen = true;
  /** the failed member was force-unlinked and has not rejoined yet */
  unlinked = false;

  constructor(readonly context: RunbookContext) {
    let maxOutageMs = Number.POSITIVE_INFINITY;
    try {
      maxOutageMs = durationMs(context.group.durations.maxOutageBeforeUnlink);
    } catch {
      // validate-input reports it and refuses the run
    }
    this.trigger = new UnlinkTrigger(maxOutageMs);
  }

  /** Rules of a gate with this quorum. */
  rules(quorum: number): GateRules {
    return {
      group: this.context.group.name,
      approvers: this.context.group.approvers ?? [],
      requestedBy: this.context.requestedBy,
      quorum,
    };
  }

  get phase(): RunbookPhase {
    if (this.ended) return this.ended;
    if (this.gate) return this.gate.kind === 'approval' ? 'awaiting-approval' : 'intervention';
    return this.basePhase;
  }

  /** approve / reject signals and the decide update. */
  vote(
    payload: { approver: string; comment?: string; gate?: string },
    decision: 'approve' | 'reject',
    via: 'decide' | 'signal',
  ): DecideResult {
    const at = now();
    const refuse = (reason: string, step: StepName, gate?: string): DecideResult =>
      this.refuse({ by: payload.approver, action: decision, via, reason, at, gate }, step);
    const gate = this.gate;
    if (payload.gate !== undefined && payload.gate !== gate?.name) {
      const closed = [...this.closedGates].reverse().find((g) => g.name === payload.gate);
      if (closed) {
        return refuse(
          `gate ${closed.name} was already decided (${closed.outcome} at ${closed.decidedAt})`,
          closed.step,
          closed.name,
        );
      }
      const open = gate ? `the open gate is ${gate.name}` : 'no gate is open';
      return refuse(`gate ${payload.gate} is not open (${open})`, gate?.step ?? this.currentStep, payload.gate);
    }
    if (!gate) return refuse(`no gate is open (current step: ${this.currentStep})`, this.currentStep);
    const result = gate.vote({ decision, approver: payload.approver, comment: payload.comment, via, at });
    if (!result.accepted) return refuse(result.reason ?? 'refused', gate.step, gate.name);
    return result;
  }

  /** intervene signal. */
  intervene(payload: { action: 'retry' | 'skip' | 'abort'; by: string; comment?: string }): void {
    const at = now();
    const action = `intervene ${payload.action}`;
    const gate = this.gate;
    if (!gate || gate.kind !== 'intervention') {
      const open = gate ? `the open gate is ${gate.name}, an approval` : 'no gate is open';
      this.refuse(
        { by: payload.by, action, via: 'signal', reason: `no intervention gate is open (${open})`, at },
        gate?.step ?? this.currentStep,
      );
      return;
    }
    const result = gate.intervene({ action: payload.action, by: payload.by, comment: payload.comment, at });
    if (!result.accepted) {
      this.refuse(
        { by: payload.by, action, via: 'signal', reason: result.reason ?? 'refused', at, gate: gate.name },
        gate.step,
      );
    }
  }

  /** regionRecovered signal. */
  regionRecovered(payload: { by: string; comment?: string }): void {
    const at = now();
    if (!this.recoveryOpen) {
      this.refuse(
        {
          by: payload.by,
          action: 'regionRecovered',
          via: 'signal',
          at,
          reason: 'the runbook is not waiting for the region to recover',
        },
        this.currentStep,
      );
      return;
    }
    if (this.recovered) {
      const earlier = `already recorded: recovered (${this.recovered.by} at ${this.recovered.at})`;
      this.refuse({ by: payload.by, action: 'regionRecovered', via: 'signal', at, reason: earlier }, 'await-recovery');
      return;
    }
    this.recovered = { by: payload.by, at, comment: payload.comment, via: 'signal' };
  }

  /** unlinkNow signal: the trigger fires at the next chance (await-recovery). */
  unlinkNow(payload: { by: string; reason: string }): void {
    const at = now();
    let refusal: string | undefined;
    if (!this.recoveryOpen) refusal = 'await-recovery has ended: there is nothing to unlink any more';
    else if (this.unlinked) refusal = `${this.context.region} is already force-unlinked`;
    else if (this.gate?.name === 'approval-unlink') refusal = 'the unlink gate is already open';
    if (refusal) {
      this.refuse({ by: payload.by, action: 'unlinkNow', via: 'signal', at, reason: refusal }, 'approval-unlink');
      return;
    }
    this.trigger.requestNow({ by: payload.by, reason: payload.reason, at });
  }

  /** abort signal: the main flow stops before its next step (at once if it waits at a gate or watch). */
  abort(payload: { by: string; reason: string }): void {
    const at = now();
    let refusal: string | undefined;
    if (this.abortRequest) refusal = `already aborting (${this.abortRequest.by} at ${this.abortRequest.at})`;
    else if (!this.isParticipant(payload.by)) {
      refusal =
        `${payload.by} is neither the incident's requester (${this.context.requestedBy}) nor an approver of ` +
        `group ${this.context.group.name}`;
    }
    if (refusal) {
      this.refuse({ by: payload.by, action: 'abort', via: 'signal', at, reason: refusal }, this.currentStep);
      return;
    }
    this.abortRequest = { by: payload.by, reason: payload.reason, at };
  }

  /** A payload that could not be understood: refused and recorded. */
  malformed(action: string, by: unknown, reason: string, via: 'decide' | 'signal'): void {
    const who = typeof by === 'string' && by.trim() ? by : '(unknown)';
    this.refuse(
      { by: who, action, via, at: now(), reason: `malformed payload: ${reason}` },
      this.gate?.step ?? this.currentStep,
    );
  }

  get currentStep(): StepName {
    return this.gate?.step ?? this.steps.current ?? this.steps.latest;
  }

  status(): RunbookStatus {
    const status: RunbookStatus = {
      group: this.context.group?.name,
      failedRegion: this.context.region,
      phase: this.phase,
      currentStep: this.ended ? null : (this.gate?.step ?? this.steps.current),
      steps: this.steps.snapshot(),
    };
    if (this.gate && !this.ended) status.openGate = this.gate.openGate(this.context.workflowId);
    return status;
  }

  private isParticipant(name: string): boolean {
    return (
      sameName(name, this.context.requestedBy) || (this.context.group.approvers ?? []).some((a) => sameName(a, name))
    );
  }

  private refuse(attempt: RefusedAttempt, step: StepName): DecideResult {
    this.steps.refuse(step, attempt);
    return { accepted: false, reason: attempt.reason };
  }
}

function now(): string {
  return new Date().toISOString();
}
