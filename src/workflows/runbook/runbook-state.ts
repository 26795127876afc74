// What the runbook's message handlers act on. Handlers only mutate this state (no activities, no
// timers): the workflow's main flow reads it and acts. Everything here is rebuilt on replay from the
// signals and accepted updates in history, so a refused attempt recorded here is durable.
//
// Every human action is a signed statement: a handler acts only on a signature that verifies against the
// worker's policy (loaded at start), for this run, this gate and this time, by someone holding the role.
import type { DecideResult } from '../../contract/messages';
import type { RunbookPhase, StepName } from '../../contract/names';
import type { Proof, Role, RunbookPolicy } from '../../contract/policy';
import type { GroupDefinition, RunbookMode } from '../../contract/runbook';
import type { ClosedGateSnapshot, RecordedRequest, RunbookSnapshot } from '../../contract/snapshot';
import type { RefusedAttempt, RunbookStatus } from '../../contract/types';
import { verifySigned, type Expectation, type Verified } from '../../policy/verify';
import { durationMs } from './durations';
import type { ApprovalGate, GateRules } from './gate';
import type { InterventionGate } from './intervention';
import { bounded } from './bounded';
import { newRecoveryProgress, requestVerification, restoredProgress, type RecoveryProgress } from './recovery-progress';
import { StepLog } from './step-log';
import { UnlinkTrigger } from './unlink-trigger';
import { batchVoteCheck, evacuationParent } from '../evacuation/child';

export interface RunbookContext {
  /** the group the input names (bounded); the policy's group once loaded */
  groupName: string;
  /** the failed region (failoverRunbook) or the region that rejoins (rejoinRunbook) */
  region: string;
  workflowId: string;
  runId: string;
  /** the verified signer of the start; empty until validate-input has verified it */
  requestedBy: string;
}

export type Gate = ApprovalGate | InterventionGate;

/** A gate that has closed: what later refusals and the step log name (a gate of an earlier run is only this). */
export type ClosedGate = Pick<Gate, 'name' | 'step' | 'outcome' | 'decidedAt'> | ClosedGateSnapshot;

/** What the runbook itself keeps beside the state, saved with it when the run continues as new. */
export type RunbookProgress = Pick<
  RunbookSnapshot,
  'stage' | 'startedAt' | 'survivors' | 'groupNickname' | 'rtoMs' | 'firstRunId' | 'runsBefore'
>;

/** Commanders' actions kept while the policy loads; more are refused. */
const MAX_EARLY_ACTIONS = 8;

/**
 * The context of a run from its raw input, every string bounded: until validate-input has checked it, the input
 * is any JSON from anyone, and the status shows these.
 */
export function stateContext(
  input: unknown,
  regionField: 'failedRegion' | 'region',
  info: { workflowId: string; runId: string },
): RunbookContext {
  const field = (name: string): string => {
    const value = typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[name] : undefined;
    return typeof value === 'string' ? bounded(value, 64) : '';
  };
  return {
    groupName: field('group'),
    region: field(regionField),
    workflowId: info.workflowId,
    runId: info.runId,
    requestedBy: '',
  };
}

type Request = RecordedRequest;

type Refusal = Omit<RefusedAttempt, 'at' | 'by'> & { by: unknown };

/** A group with no members and nobody in any role: what handlers see before the policy is loaded. */
function emptyGroup(name: string): GroupDefinition {
  return {
    name,
    members: {},
    trafficManager: { profileId: '', endpoints: {} },
    applicationRegions: {},
    commanders: [],
    approvers: [],
    quorum: { unlink: 1, rejoin: 1, intervention: 1 },
    memoryThresholds: { elevatedPercent: 70, criticalPercent: 85 },
    rejoinMethod: 'force-link',
    durations: {
      approvalTimeout: '30 minutes',
      escalationTimeout: '15 minutes',
      recoveryPollInterval: '1 minute',
      maxOutageBeforeUnlink: '4 hours',
      resyncTimeout: '30 minutes',
      probeTimeout: '5 seconds',
    },
  };
}

export class RunbookState {
  readonly steps = new StepLog();
  trigger = new UnlinkTrigger(Number.POSITIVE_INFINITY);
  /** the worker's policy, once loadPolicy answered */
  policy?: RunbookPolicy;
  /** the commander's signed start, verified */
  startProof?: Proof;
  /** the gate people can answer now */
  gate?: Gate;
  readonly closedGates: ClosedGate[] = [];
  /** phase of the main flow; an open gate shows instead */
  basePhase: RunbookPhase = 'validating';
  /** set once the runbook has ended */
  ended?: RunbookPhase;
  /** the failed region is back: `regionRecovered`, or the member answered a poll */
  recovered?: Request & { via: 'signal' | 'poll' };
  /**
   * The recovery watch's memory (samples, polls, consecutive passing checks, regionRecovered requests): one plain
   * JSON object, carried as it is when the run continues as new.
   */
  recovery: RecoveryProgress = newRecoveryProgress();
  abortRequest?: Request & { reason: string };
  /** how the run was started (validate-input sets it once the input is checked): incident, rehearsal or drill */
  mode: RunbookMode = 'incident';
  /** a rehearsal: a commander's signed endRehearsal, accepted (the hold ends) */
  rehearsalEnd?: Request;
  /** await-recovery has not ended yet: regionRecovered and unlinkNow still apply */
  recoveryOpen = true;
  /** the failed member was force-unlinked and has not rejoined yet */
  unlinked = false;
  private gatesOpened = 0;
  /** set when this run continues an incident: its place in the chain of runs */
  private continued?: RunbookStatus['continued'];
  /** commanders' actions that arrived while the policy was loading: applied once it is in (bounded) */
  private readonly early: (() => void)[] = [];
  /** nonces of statements acted on: a statement counts once */
  private readonly usedNonces = new Set<string>();
  private readonly placeholder: GroupDefinition;

  constructor(readonly context: RunbookContext) {
    this.placeholder = emptyGroup(context.groupName);
  }

  /** The group as the policy defines it; an empty group (nobody in any role) before the policy is loaded. */
  get group(): GroupDefinition {
    return this.policy?.group ?? this.placeholder;
  }

  /** The worker's policy is in: roles, keys and durations apply from now on. */
  setPolicy(policy: RunbookPolicy): void {
    this.policy = policy;
    let maxOutageMs = Number.POSITIVE_INFINITY;
    try {
      maxOutageMs = durationMs(policy.group.durations.maxOutageBeforeUnlink);
    } catch {
      // validate-input reports it and refuses the run
    }
    this.trigger = new UnlinkTrigger(maxOutageMs);
    for (const apply of this.early.splice(0)) apply();
  }

  /**
   * A commander may act the moment the run exists (unlink-now, abort), before validate-input has loaded the
   * policy their signature is checked against: such an action waits for it instead of being refused.
   */
  private deferred(apply: () => void, action: string, by: unknown): boolean {
    if (this.policy) return false;
    if (this.early.length < MAX_EARLY_ACTIONS) this.early.push(apply);
    else {
      const reason = 'the runbook has not loaded its policy yet and holds enough early actions; send it again';
      this.refuse({ by, action, via: 'signal', reason }, this.currentStep);
    }
    return true;
  }

  /**
   * The whole state, for the next run of this incident (continue-as-new). Only at a quiet point: no gate open, no
   * early actions waiting (the policy is in).
   */
  save(progress: RunbookProgress): RunbookSnapshot {
    const snapshot: RunbookSnapshot = {
      version: 1,
      firstRunId: progress.firstRunId,
      previousRunId: this.context.runId,
      runsBefore: progress.runsBefore + 1,
      startedAt: progress.startedAt,
      stage: progress.stage,
      basePhase: this.basePhase,
      policy: this.policy as RunbookPolicy,
      startProof: this.startProof as Proof,
      requestedBy: this.context.requestedBy,
      steps: this.steps.snapshot(),
      closedGates: this.closedGates.map((g) => ({
        name: g.name,
        step: g.step,
        ...(g.outcome !== undefined ? { outcome: g.outcome } : {}),
        ...(g.decidedAt !== undefined ? { decidedAt: g.decidedAt } : {}),
      })),
      gatesOpened: this.gatesOpened,
      usedNonces: [...this.usedNonces],
      trigger: this.trigger.save(),
      recoveryOpen: this.recoveryOpen,
      unlinked: this.unlinked,
      survivors: progress.survivors.map((m) => ({ ...m })),
    };
    if (this.recovered) snapshot.recovered = { ...this.recovered };
    if (this.abortRequest) snapshot.abortRequest = { ...this.abortRequest };
    if (this.rehearsalEnd) snapshot.rehearsalEnd = { ...this.rehearsalEnd };
    if (progress.groupNickname !== undefined) snapshot.groupNickname = progress.groupNickname;
    if (progress.rtoMs !== undefined) snapshot.rtoMs = progress.rtoMs;
    snapshot.recovery = this.recovery;
    return snapshot;
  }

  /** A continued run takes the incident over from the snapshot its previous run saved. */
  restore(snapshot: RunbookSnapshot): void {
    this.setPolicy(snapshot.policy);
    this.trigger.restore(snapshot.trigger);
    this.startProof = snapshot.startProof;
    this.context.requestedBy = snapshot.requestedBy;
    this.basePhase = snapshot.basePhase;
    this.steps.restore(snapshot.steps);
    this.closedGates.push(...snapshot.closedGates);
    this.gatesOpened = snapshot.gatesOpened;
    for (const nonce of snapshot.usedNonces) this.usedNonces.add(nonce);
    this.recovered = snapshot.recovered;
    this.abortRequest = snapshot.abortRequest;
    this.rehearsalEnd = snapshot.rehearsalEnd;
    this.recoveryOpen = snapshot.recoveryOpen;
    this.unlinked = snapshot.unlinked;
    this.continued = {
      run: snapshot.runsBefore + 1,
      firstRunId: snapshot.firstRunId,
      incidentStartedAt: snapshot.startedAt,
    };
    // Rebuilt field by field, every list and string bounded.
    if (snapshot.recovery !== undefined) this.recovery = restoredProgress(snapshot.recovery);
  }

  /** The verified start: its signer is the requester. */
  setRequest(start: Verified, proof: Proof): void {
    this.context.requestedBy = start.signer;
    this.startProof = proof;
    this.usedNonces.add(start.statement.nonce);
  }

  /** The next gate's instance number (a signed decision names gate and instance). */
  nextGateInstance(): number {
    this.gatesOpened += 1;
    return this.gatesOpened;
  }

  /** Rules of a gate with this quorum. */
  rules(quorum: number): GateRules {
    return {
      group: this.group.name,
      approvers: this.group.approvers ?? [],
      requestedBy: this.context.requestedBy,
      quorum,
    };
  }

  /** Who may answer an intervention gate: commanders and approvers. */
  get answerers(): string[] {
    return [...new Set([...(this.group.commanders ?? []), ...(this.group.approvers ?? [])])];
  }

  get phase(): RunbookPhase {
    if (this.ended) return this.ended;
    if (this.gate) return this.gate.kind === 'approval' ? 'awaiting-approval' : 'intervention';
    return this.basePhase;
  }

  /**
   * Verifies a signed action for this run: the signature under the policy, the statement's binding, the time,
   * a nonce not used before, and that the payload names the signer. Records and returns the refusal otherwise.
   */
  private verified(
    proof: unknown,
    claimed: unknown,
    expect: Omit<Expectation, 'workflowId' | 'runId' | 'nowMs'>,
    refusal: Omit<Refusal, 'by' | 'reason'>,
    step: StepName,
  ): Verified | DecideResult {
    const refuse = (reason: string, by: unknown = claimed): DecideResult =>
      this.refuse({ ...refusal, by, reason }, step, typeof by === 'string' && by !== claimed);
    if (!this.policy) return refuse('the runbook has not loaded its policy yet; send it again in a moment');
    let result = verifySigned(proof, this.policy, {
      ...expect,
      workflowId: this.context.workflowId,
      runId: this.context.runId,
      nowMs: Date.now(),
    });
    // An evacuation's signed abort reaches each of its runbooks: bound to the evacuation's run, signed by a
    // commander of this group.
    const parent = !result.ok && expect.actions.includes('abort') ? evacuationParent() : undefined;
    if (parent) {
      const viaParent = verifySigned(proof, this.policy, { ...expect, ...parent, nowMs: Date.now() });
      if (viaParent.ok) result = viaParent;
    }
    if (!result.ok) return refuse(result.reason);
    if (this.usedNonces.has(result.statement.nonce)) {
      return refuse(`replayed: this signed statement (nonce ${bounded(result.statement.nonce, 40)}) was already used`);
    }
    if (claimed !== result.signer) {
      return refuse(
        `the payload names ${bounded(String(claimed), 64)} but the statement is signed by ${result.signer}`,
        result.signer,
      );
    }
    return result;
  }

  /** approve / reject signals and the decide update. */
  vote(
    payload: { approver: string; comment?: string; gate?: string; proof?: unknown },
    decision: 'approve' | 'reject',
    via: 'decide' | 'signal',
  ): DecideResult {
    const at = now();
    const refuse = (reason: string, step: StepName, gate?: string): DecideResult =>
      this.refuse({ by: payload.approver, action: decision, via, reason, gate }, step);
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
    const check = this.verified(
      payload.proof,
      payload.approver,
      {
        actions: [decision],
        gate: gate.name,
        gateInstance: gate.instance,
        targets: gate.targets,
        role: 'approver',
      },
      { action: decision, via, gate: gate.name },
      gate.step,
    );
    if (!('ok' in check)) return check;
    const result = gate.vote({
      decision,
      approver: check.signer,
      comment: payload.comment,
      via,
      at,
      fingerprint: check.fingerprint,
      proof: payload.proof as Proof,
    });
    if (!result.accepted) {
      // The signature verified: the refusal names the signer as such.
      const reason = result.reason ?? 'refused';
      return this.refuse({ by: check.signer, action: decision, via, reason, gate: gate.name }, gate.step, true);
    }
    this.usedNonces.add(check.statement.nonce);
    return result;
  }

  /** An evacuation's batch approval of approval-unlink (evacuation/child.ts checks it against this group's policy). */
  batchVote(payload: unknown): void {
    const gate = this.gate;
    const claimed = (payload as { approver?: unknown } | null)?.approver;
    const refuse = (reason: string, by: unknown = claimed, verified = false): void => {
      this.refuse(
        { by, action: 'approve (batch)', via: 'signal', reason, gate: gate?.name },
        gate?.step ?? 'approval-unlink',
        verified,
      );
    };
    const check = batchVoteCheck(payload, gate?.name, this.policy, this.context.region);
    if (typeof check === 'string') return refuse(check);
    if (this.usedNonces.has(check.statement.nonce)) return refuse('replayed: this signed statement was already used');
    const result = (gate as ApprovalGate).vote({
      decision: 'approve',
      approver: check.signer,
      comment: (payload as { comment?: string }).comment,
      via: 'signal',
      at: now(),
      fingerprint: check.fingerprint,
      proof: (payload as { proof: Proof }).proof,
    });
    if (!result.accepted) return refuse(result.reason ?? 'refused', check.signer, true);
    this.usedNonces.add(check.statement.nonce);
  }

  /** intervene signal. */
  intervene(payload: { action: 'retry' | 'skip' | 'abort'; by: string; comment?: string; proof?: unknown }): void {
    const at = now();
    const action = `intervene ${payload.action}`;
    const gate = this.gate;
    if (!gate || gate.kind !== 'intervention') {
      const open = gate ? `the open gate is ${gate.name}, an approval` : 'no gate is open';
      this.refuse(
        { by: payload.by, action, via: 'signal', reason: `no intervention gate is open (${open})` },
        gate?.step ?? this.currentStep,
      );
      return;
    }
    const check = this.verified(
      payload.proof,
      payload.by,
      { actions: ['intervene'], gate: gate.name, gateInstance: gate.instance },
      { action, via: 'signal', gate: gate.name },
      gate.step,
    );
    if (!('ok' in check)) return;
    const signedAction = check.statement.detail?.action;
    if (signedAction !== payload.action) {
      this.refuse(
        {
          by: check.signer,
          action,
          via: 'signal',
          gate: gate.name,
          reason: `the statement signs intervene ${bounded(String(signedAction), 16)}, not ${payload.action}`,
        },
        gate.step,
        true,
      );
      return;
    }
    const result = gate.intervene({
      action: payload.action,
      by: check.signer,
      comment: payload.comment,
      at,
      fingerprint: check.fingerprint,
    });
    if (!result.accepted) {
      this.refuse(
        { by: check.signer, action, via: 'signal', reason: result.reason ?? 'refused', gate: gate.name },
        gate.step,
        true,
      );
      return;
    }
    this.usedNonces.add(check.statement.nonce);
  }

  /** A commander's action outside any gate (regionRecovered, unlinkNow, abort), verified. */
  private commanderAction(
    payload: { by: string; proof?: unknown },
    action: 'regionRecovered' | 'unlinkNow' | 'abort' | 'endRehearsal',
    step: StepName,
  ): Verified | undefined {
    const check = this.verified(
      payload.proof,
      payload.by,
      { actions: [action], gate: null, role: 'commander' as Role },
      { action, via: 'signal' },
      step,
    );
    return 'ok' in check ? check : undefined;
  }

  /** regionRecovered signal: asks await-recovery to check the region now; it does not end the watch by itself. */
  regionRecovered(payload: { by: string; comment?: string; proof?: unknown }): void {
    if (this.deferred(() => this.regionRecovered(payload), 'regionRecovered', payload.by)) return;
    const at = now();
    const refusal = !this.recoveryOpen
      ? 'the runbook is not waiting for the region to recover'
      : this.recovered
        ? `already recorded: recovered (${this.recovered.by} at ${this.recovered.at})`
        : undefined;
    if (refusal) {
      this.refuse({ by: payload.by, action: 'regionRecovered', via: 'signal', reason: refusal }, 'await-recovery');
      return;
    }
    const check = this.commanderAction(payload, 'regionRecovered', 'await-recovery');
    if (!check) return;
    this.usedNonces.add(check.statement.nonce);
    // A request to verify now: the region counts as recovered only once the checks pass (recovery-progress.ts).
    requestVerification(this.recovery, {
      by: check.signer,
      at,
      ...(payload.comment !== undefined ? { comment: payload.comment } : {}),
      fingerprint: check.fingerprint,
    });
  }

  /** unlinkNow signal: the trigger fires at the next chance (await-recovery). */
  unlinkNow(payload: { by: string; reason: string; proof?: unknown }): void {
    if (this.deferred(() => this.unlinkNow(payload), 'unlinkNow', payload.by)) return;
    const at = now();
    let refusal: string | undefined;
    if (!this.recoveryOpen) refusal = 'await-recovery has ended: there is nothing to unlink any more';
    else if (this.unlinked) refusal = `${this.context.region} is already force-unlinked`;
    else if (this.gate?.name === 'approval-unlink') refusal = 'the unlink gate is already open';
    if (refusal) {
      this.refuse({ by: payload.by, action: 'unlinkNow', via: 'signal', reason: refusal }, 'approval-unlink');
      return;
    }
    const check = this.commanderAction(payload, 'unlinkNow', 'approval-unlink');
    if (!check) return;
    this.usedNonces.add(check.statement.nonce);
    this.trigger.requestNow({ by: check.signer, reason: payload.reason, at });
  }

  /**
   * endRehearsal signal: a commander ends a rehearsal's hold (traffic comes back). Refused for an incident, once the
   * hold is over, or when it was already sent; checked as regionRecovered and unlinkNow are.
   */
  endRehearsal(payload: { by: string; comment?: string; proof?: unknown }): void {
    if (this.deferred(() => this.endRehearsal(payload), 'endRehearsal', payload.by)) return;
    const at = now();
    const hold = this.steps.get('hold').status;
    let refusal: string | undefined;
    if (this.mode !== 'rehearsal') refusal = 'this runbook is not a rehearsal: there is no hold to end';
    else if (this.rehearsalEnd) refusal = `already ended (${this.rehearsalEnd.by} at ${this.rehearsalEnd.at})`;
    else if (this.ended || (hold !== 'pending' && hold !== 'running')) refusal = 'the hold is already over';
    if (refusal) {
      this.refuse({ by: payload.by, action: 'endRehearsal', via: 'signal', reason: refusal }, 'hold');
      return;
    }
    const check = this.commanderAction(payload, 'endRehearsal', 'hold');
    if (!check) return;
    this.usedNonces.add(check.statement.nonce);
    this.rehearsalEnd = {
      by: check.signer,
      at,
      ...(payload.comment !== undefined ? { comment: payload.comment } : {}),
      fingerprint: check.fingerprint,
    };
  }

  /** abort signal: the main flow stops before its next step (at once if it waits at a gate or watch). */
  abort(payload: { by: string; reason: string; proof?: unknown }): void {
    if (this.deferred(() => this.abort(payload), 'abort', payload.by)) return;
    const at = now();
    if (this.abortRequest) {
      const reason = `already aborting (${this.abortRequest.by} at ${this.abortRequest.at})`;
      this.refuse({ by: payload.by, action: 'abort', via: 'signal', reason }, this.currentStep);
      return;
    }
    const check = this.commanderAction(payload, 'abort', this.currentStep);
    if (!check) return;
    this.usedNonces.add(check.statement.nonce);
    this.abortRequest = { by: check.signer, reason: payload.reason, at, fingerprint: check.fingerprint };
  }

  /** A payload that could not be understood: refused and recorded. */
  malformed(action: string, by: unknown, reason: string, via: 'decide' | 'signal'): void {
    this.refuse({ by, action, via, reason: `malformed payload: ${reason}` }, this.gate?.step ?? this.currentStep);
  }

  get currentStep(): StepName {
    return this.gate?.step ?? this.steps.current ?? this.steps.latest;
  }

  status(): RunbookStatus {
    const status: RunbookStatus = {
      group: this.group.name,
      failedRegion: this.context.region,
      runId: this.context.runId,
      phase: this.phase,
      currentStep: this.ended ? null : (this.gate?.step ?? this.steps.current),
      steps: this.steps.snapshot(),
    };
    if (this.context.requestedBy) status.requestedBy = this.context.requestedBy;
    if (this.policy) status.policyDigest = this.policy.digest;
    if (this.continued) status.continued = { ...this.continued };
    if (this.mode !== 'incident') status.mode = this.mode;
    if (this.gate && !this.ended) status.openGate = this.gate.openGate(this.context.workflowId);
    return status;
  }

  /**
   * Records a refusal with every field bounded: anyone may send anything, of any size. `by` is the verified
   * signer when `verified`, else whatever the payload claimed, marked unverified.
   */
  private refuse(attempt: Refusal, step: StepName, verified = false): DecideResult {
    const claimed = typeof attempt.by === 'string' && attempt.by.trim() ? bounded(attempt.by, 64) : undefined;
    const by = claimed === undefined ? '(unknown)' : verified ? claimed : `${claimed} (unverified)`;
    const reason = bounded(attempt.reason, 400);
    const record: RefusedAttempt = {
      by,
      action: bounded(attempt.action, 40),
      via: attempt.via,
      reason,
      at: now(),
    };
    if (attempt.gate !== undefined) record.gate = bounded(attempt.gate, 64);
    this.steps.refuse(step, record);
    return { accepted: false, reason };
  }
}

function now(): string {
  return new Date().toISOString();
}
