/**
 * The evidence model of one runbook execution, built from its history only (the durable truth, not the
 * live query): the input (why, the region, the commander's signed request), the group and people acted on (the
 * worker's policy, recorded as the loadPolicy activity's result), the step log from the completion result — or,
 * while the runbook runs, rebuilt from activity events and phase changes (the report then says it is
 * partial) — and, from activity events, membership, memory, probes and Traffic Manager. Every signed decision
 * is verified again here against the recorded policy's keys (./signatures), not taken from the step log.
 */
import type { DecideResult } from '../../contract/messages';
import { STEP_NAMES, WORKFLOW_TYPES, type StepName } from '../../contract/names';
import { stepOfSummary } from '../../contract/steps';
import {
  INCIDENT_ID,
  type FailoverRunbookInput,
  type GroupDefinition,
  type RejoinRunbookInput,
  type RunbookResult,
} from '../../contract/runbook';
import type { GateRecord, RefusedAttempt, StepRecord } from '../../contract/types';
import { activitySummaries, type History } from '../history';
import type { ReplayVerdict } from '../replay';
import { codeVersion } from '../code-version';
import { decisionTable, environmentOf, gateSeen, openItems, rtoTargetMs } from './assessment';
import { readHistoryFacts, type ActivityEvents, type HistoryFacts } from './events';
import { activityRows, isRecord, membership, memory, probes, str, traffic } from './observations';
import type {
  EvidenceReport,
  ReportDecision,
  ReportGate,
  ReportRefusedAttempt,
  ReportSignature,
  ReportStep,
} from './schema';
import {
  checkDecision,
  keyFingerprints,
  proofOf,
  recordedPolicy,
  type RecordedGate,
  type RecordedPolicy,
  type SignatureCheck,
} from './signatures';

export interface BuildReportOptions {
  replay: ReplayVerdict;
  workflowId: string;
  source: EvidenceReport['source'];
  /** default: now */
  generatedAt?: string;
}

type RunbookInput = Partial<FailoverRunbookInput> & Partial<RejoinRunbookInput>;

const span = (from?: string, to?: string): number | undefined =>
  from && to ? Math.max(0, Date.parse(to) - Date.parse(from)) : undefined;

/** geofailover's version, from the package.json above this file (source or build). */
export function generatorVersion(): string {
  return codeVersion().version;
}

// ---- which step an activity served -------------------------------------------------------------------

/**
 * The step an activity served: the step the workflow tagged it with (ActivityOptions.summary, recorded as the
 * ActivityTaskScheduled event's `userMetadata.summary`), else a guess from the phase and the input.
 */
export function activityStep(a: ActivityEvents, failedRegion: string, summary?: string): StepName | undefined {
  return stepOfSummary(summary) ?? guessedActivityStep(a, failedRegion);
}

/**
 * For histories recorded before activities were tagged with their step: a guess from the RunbookPhase in force
 * when the activity was scheduled and its input. It cannot tell apart activities of steps that run side by side
 * (the recovery watch goes on while later steps run).
 */
function guessedActivityStep(a: ActivityEvents, failedRegion: string): StepName | undefined {
  const input = isRecord(a.input) ? a.input : {};
  const phase = a.phase ?? 'validating';
  switch (a.type) {
    case 'loadPolicy':
      return 'validate-input';
    case 'describeMember':
      if (phase === 'validating') return 'membership';
      if (phase === 'rejoining' || phase === 'failing-back') return 'rejoin';
      // await-recovery polls read the failed member; force-unlink verifies on the survivors.
      if (str(input.region) === failedRegion) return 'await-recovery';
      return phase === 'unlinking' ? 'force-unlink' : 'await-recovery';
    case 'readMemory':
      return phase === 'validating' ? 'memory' : 'await-recovery';
    case 'probeEndpoints':
      if (phase === 'failing-back') return 'traffic-failback';
      return phase === 'validating' || phase === 'rerouting' ? 'firewall' : 'await-recovery';
    case 'setEndpointStatus':
      return input.status === 'Enabled' ? 'traffic-failback' : 'traffic-reroute';
    case 'readProfile':
      return 'traffic-failback';
    case 'canaryWriteRead':
      return 'verify';
    case 'forceUnlink':
      return 'force-unlink';
    case 'rejoinMember':
      return 'rejoin';
    default:
      return undefined;
  }
}

// ---- steps -------------------------------------------------------------------------------------------

function stepsFromResult(steps: StepRecord[]): ReportStep[] {
  return steps.map((s) => {
    const step: ReportStep = {
      step: s.step,
      status: s.status,
      attempts: s.attempts,
      summary: s.summary,
      source: 'result',
    };
    if (s.startedAt) step.startedAt = s.startedAt;
    if (s.endedAt) step.endedAt = s.endedAt;
    const d = span(s.startedAt, s.endedAt);
    if (d !== undefined) step.durationMs = d;
    if (s.actor) step.actor = s.actor;
    return step;
  });
}

/** The step log as far as events show it, for a runbook that has not closed (or closed without a result). */
function stepsFromEvents(facts: HistoryFacts, byStep: Map<StepName, ActivityEvents[]>, running: boolean): ReportStep[] {
  const phases = facts.phases;
  const lastPhase = phases[phases.length - 1]?.phase;
  const firstPhaseAt = (name: string): string | undefined => phases.find((p) => p.phase === name)?.at;
  // loadPolicy is part of validate-input: only what follows it shows the input was accepted.
  const anyActivity = facts.activities.some((a) => a.type !== 'loadPolicy');
  const gateIntervals = (base: 'awaiting-recovery' | 'rejoining'): { from: string; to?: string }[] => {
    const out: { from: string; to?: string }[] = [];
    let previous: string | undefined;
    for (let i = 0; i < phases.length; i++) {
      const p = phases[i] as HistoryFacts['phases'][number];
      if (p.phase === 'awaiting-approval' && previous === base) {
        out.push({ from: p.at, to: phases[i + 1]?.at });
      }
      if (p.phase !== 'awaiting-approval' && p.phase !== 'intervention') previous = p.phase;
    }
    return out;
  };

  return STEP_NAMES.map((name): ReportStep => {
    const base: ReportStep = {
      step: name,
      status: 'pending',
      attempts: 0,
      summary: 'no events yet',
      source: 'history-events',
    };
    const acts = byStep.get(name) ?? [];
    if (name === 'validate-input') {
      if (!anyActivity) return base;
      const at = phases[0]?.at ?? facts.startedAt;
      return {
        ...base,
        status: 'succeeded',
        attempts: 1,
        startedAt: at,
        endedAt: at,
        durationMs: 0,
        summary: 'input accepted (activities followed)',
      };
    }
    if (name === 'approval-unlink' || name === 'approval-rejoin') {
      const intervals = gateIntervals(name === 'approval-unlink' ? 'awaiting-recovery' : 'rejoining');
      if (!intervals.length) return base;
      const open = intervals.some((i) => !i.to) && running && lastPhase === 'awaiting-approval';
      const next = byStep.get(name === 'approval-unlink' ? 'force-unlink' : 'rejoin') ?? [];
      const approved = name === 'approval-unlink' ? next.length > 0 : next.some((a) => a.type === 'rejoinMember');
      const first = intervals[0] as { from: string; to?: string };
      const last = intervals[intervals.length - 1] as { from: string; to?: string };
      const step: ReportStep = {
        ...base,
        status: open ? 'waiting' : approved ? 'succeeded' : 'unknown',
        attempts: intervals.length,
        startedAt: first.from,
        summary: open
          ? `gate open since ${last.from}`
          : `gate opened ${intervals.length} time(s)${approved ? '; the step after it ran, so it was approved' : ''}`,
      };
      if (!open && last.to) {
        step.endedAt = last.to;
        step.durationMs = span(first.from, last.to);
      }
      return step;
    }
    if (name === 'await-recovery') {
      const from = firstPhaseAt('awaiting-recovery');
      if (!from) return base;
      const to = firstPhaseAt('rejoining');
      const step: ReportStep = {
        ...base,
        status: to ? 'succeeded' : running ? 'running' : 'unknown',
        attempts: 1,
        startedAt: from,
        summary: `${acts.length} watch read(s) of the failed member and the survivors' memory`,
      };
      if (to) {
        step.endedAt = to;
        step.durationMs = span(from, to);
      }
      return step;
    }
    if (name === 'complete') return base;
    if (!acts.length) return base;
    const pending = acts.some((a) => a.outcome === 'pending');
    const lastClosed = [...acts].sort((a, b) => (a.closedAtMs ?? 0) - (b.closedAtMs ?? 0)).pop() as ActivityEvents;
    const failed = !pending && lastClosed.outcome !== 'completed';
    const step: ReportStep = {
      ...base,
      status: pending ? 'running' : failed ? 'failed' : 'succeeded',
      attempts: Math.max(1, ...acts.map((a) => a.attempt ?? 1)),
      startedAt: acts[0]?.scheduledAt,
      summary:
        `${acts.length} activit${acts.length === 1 ? 'y' : 'ies'} (${[...new Set(acts.map((a) => a.type))].join(', ')})` +
        (failed ? `; last failed: ${lastClosed.failure ?? lastClosed.outcome}` : ''),
    };
    if (!pending && lastClosed.closedAt) {
      step.endedAt = lastClosed.closedAt;
      step.durationMs = span(step.startedAt, step.endedAt);
    }
    return step;
  });
}

// ---- gates, decisions, refused attempts --------------------------------------------------------------

/** What the auditor checks every decision against: the recorded policy, this run and its recorded gates. */
interface CheckContext {
  recorded: RecordedPolicy | undefined;
  workflowId: string;
  runId?: string;
  /** every run of an incident that continued as new */
  runIds?: string[];
  /** the step log's gates; undefined while the runbook runs */
  gates?: RecordedGate[];
}

function recordedGates(steps: StepRecord[]): RecordedGate[] {
  return steps.flatMap((s) =>
    (s.gates ?? []).map((g) => ({
      gate: g.gate,
      ...(g.instance !== undefined ? { instance: g.instance } : {}),
      ...(g.targets ? { targets: g.targets } : {}),
    })),
  );
}

/** A SignatureCheck as the report shows it (the nonce stays internal). */
function reportSignature(check: SignatureCheck): ReportSignature {
  const out: ReportSignature = { verified: check.verified };
  if (check.signer !== undefined) out.signer = check.signer;
  if (check.fingerprint !== undefined) out.fingerprint = check.fingerprint;
  if (check.reason !== undefined) out.reason = check.reason;
  if (check.action !== undefined) out.action = check.action;
  if (check.gate !== undefined) out.gate = check.gate;
  if (check.gateInstance !== undefined) out.gateInstance = check.gateInstance;
  return out;
}

function gatesFromResult(steps: StepRecord[], decisions: ReportDecision[], ctx: CheckContext): ReportGate[] {
  return steps.flatMap((s) =>
    (s.gates ?? []).map((g: GateRecord): ReportGate => {
      const recorded: RecordedGate = {
        gate: g.gate,
        ...(g.instance !== undefined ? { instance: g.instance } : {}),
        ...(g.targets ? { targets: g.targets } : {}),
      };
      const gate: ReportGate = {
        step: s.step,
        gate: g.gate,
        kind: g.kind,
        requestedAt: g.requestedAt,
        quorum: g.quorum,
        eligibleApprovers: g.eligibleApprovers ?? [],
        seen: {},
        votes: (g.votes ?? []).map((v) => {
          // The vote's own proof, checked again: the step log's fingerprint is not taken on trust.
          const check = checkDecision(v.proof, ctx.recorded, {
            name: v.decision,
            payload: { decision: v.decision },
            workflowId: ctx.workflowId,
            ...(ctx.runId ? { runId: ctx.runId } : {}),
            ...(ctx.runIds ? { runIds: ctx.runIds } : {}),
            ...(ctx.runIds ? { runIds: ctx.runIds } : {}),
            atMs: Date.parse(v.at),
            gates: [recorded],
          });
          const verified = check.verified && check.signer === v.approver;
          const vote: ReportGate['votes'][number] = {
            approver: v.approver,
            decision: v.decision,
            via: v.via,
            at: v.at,
            verified,
          };
          if (v.comment !== undefined) vote.comment = v.comment;
          if (check.fingerprint) vote.fingerprint = check.fingerprint;
          if (!verified) {
            vote.reason =
              check.reason ?? `the statement is signed by ${check.signer ?? 'someone else'}, not ${v.approver}`;
          }
          return vote;
        }),
      };
      if (g.outcome) gate.outcome = g.outcome;
      if (g.decidedAt) gate.decidedAt = g.decidedAt;
      if (g.escalatedAt) gate.escalatedAt = g.escalatedAt;
      if (g.interventions) {
        gate.interventions = g.interventions.map((i) => {
          const backing = decisions.find(
            (d) =>
              d.name === 'intervene' &&
              d.verdict === 'accepted' &&
              d.signature.verified &&
              d.signature.signer === i.by &&
              d.signature.gate === g.gate &&
              isRecord(d.payload) &&
              d.payload.action === i.action,
          );
          const row: NonNullable<ReportGate['interventions']>[number] = {
            action: i.action,
            by: i.by,
            at: i.at,
            verified: backing !== undefined,
          };
          if (i.comment !== undefined) row.comment = i.comment;
          const fp = backing?.signature.fingerprint;
          if (fp) row.fingerprint = fp;
          return row;
        });
      }
      if (g.request !== undefined) gate.request = g.request;
      gate.seen = gateSeen(gate);
      return gate;
    }),
  );
}

function refusedFromResult(steps: StepRecord[]): ReportRefusedAttempt[] {
  return steps
    .flatMap((s) => (s.refusedAttempts ?? []).map((r: RefusedAttempt) => ({ step: s.step, ...r })))
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** The action name a refused attempt records for a signal. */
function signalAction(name: string, payload: unknown): string {
  if (name === 'intervene') return `intervene ${isRecord(payload) ? String(payload.action) : 'undefined'}`;
  return name;
}

/** Who a refused attempt of this sender would name: the verified signer, or the claimed name marked unverified. */
function refusalNames(actor: string | undefined, check: SignatureCheck): string[] {
  const names = ['(unknown)'];
  if (actor) names.push(actor, `${actor} (unverified)`, `${actor.slice(0, 63)}… (unverified)`);
  if (check.signer) names.push(check.signer);
  return names;
}

type Verdict = ReportDecision['verdict'];

/**
 * Every signal and accepted update of the history, with the runbook's answer and the auditor's own check of its
 * signature. A decision the runbook accepted but whose signature does not verify is reported refused.
 */
function decisions(facts: HistoryFacts, result: RunbookResult | undefined, ctx: CheckContext): ReportDecision[] {
  const steps = result?.status.steps;
  const unused = steps ? refusedFromResult(steps).filter((r) => r.via === 'signal') : undefined;
  // The step log keeps the first refusals of a step only: past them, "no refusal recorded" proves nothing.
  const truncated = (steps ?? []).some((s) => (s.refusedTotal ?? 0) > (s.refusedAttempts?.length ?? 0));
  const votedStatements = new Set(
    (steps ?? []).flatMap((s) => (s.gates ?? []).flatMap((g) => g.votes.map((v) => v.proof?.statement ?? ''))),
  );
  const out: ReportDecision[] = [];
  const checkOf = (name: string, payload: unknown, at: string): SignatureCheck =>
    checkDecision(proofOf(payload), ctx.recorded, {
      name,
      payload,
      workflowId: ctx.workflowId,
      ...(ctx.runId ? { runId: ctx.runId } : {}),
      ...(ctx.runIds ? { runIds: ctx.runIds } : {}),
      atMs: Date.parse(at),
      ...(ctx.gates ? { gates: ctx.gates } : {}),
    });

  for (const s of facts.signals) {
    const payload = isRecord(s.payload) ? s.payload : {};
    const actor = str(payload.approver) ?? str(payload.by);
    const check = checkOf(s.name, s.payload, s.at);
    let verdict: Verdict = 'unknown';
    let reason: string | undefined;
    if (unused) {
      // Every handler either records a refusal in the step log or acts.
      const action = signalAction(s.name, s.payload);
      const names = refusalNames(actor, check);
      const i = unused.findIndex((r) => r.action === action && names.includes(r.by));
      const isVote = s.name === 'approve' || s.name === 'reject';
      const statement = proofOf(s.payload)?.statement;
      if (isVote && statement !== undefined && votedStatements.has(statement)) verdict = 'accepted';
      else if (i >= 0) {
        verdict = 'refused';
        reason = (unused.splice(i, 1)[0] as ReportRefusedAttempt).reason;
      } else if (truncated) {
        reason = 'the step log kept only the first refusals of a step, so whether this was acted on is not recorded';
      } else if (isVote) {
        verdict = 'refused';
        reason = "not among the gate's accepted votes";
      } else verdict = 'accepted';
    }
    const d: ReportDecision = {
      eventId: s.eventId,
      at: s.at,
      kind: 'signal',
      name: s.name,
      payload: s.payload,
      verdict,
      signature: reportSignature(check),
    };
    if (actor) d.actor = actor;
    if (s.identity) d.identity = s.identity;
    if (reason) d.reason = reason;
    out.push(d);
  }
  for (const u of facts.updates) {
    const payload = isRecord(u.payload) ? u.payload : {};
    const actor = str(payload.approver) ?? str(payload.by);
    const d: ReportDecision = {
      eventId: u.eventId,
      at: u.at,
      kind: 'update',
      name: u.name,
      updateId: u.updateId,
      payload: u.payload,
      verdict: 'unknown',
      signature: reportSignature(checkOf(u.name, u.payload, u.at)),
    };
    if (actor) d.actor = actor;
    if (u.identity) d.identity = u.identity;
    if (u.completed?.success) {
      const answer = (u.completed.result ?? {}) as Partial<DecideResult>;
      d.verdict = answer.accepted === false ? 'refused' : 'accepted';
      if (answer.reason) d.reason = answer.reason;
      if (answer.detail) d.detail = answer.detail;
    } else if (u.completed) {
      d.verdict = 'failed';
      d.reason = u.completed.failure;
    }
    out.push(d);
  }
  out.sort((a, b) => a.eventId - b.eventId);

  // The auditor's word over the runbook's: an accepted decision must carry a signature that verifies here, and
  // a signed statement counts once.
  const nonces = new Set<string>();
  for (const d of out) {
    if (d.verdict !== 'accepted') continue;
    const nonce = d.signature.verified ? nonceOf(d.payload) : undefined;
    if (d.signature.verified && nonce !== undefined && nonces.has(nonce)) {
      d.signature = { ...d.signature, verified: false, reason: `replayed: nonce ${nonce} was already used` };
    }
    if (!d.signature.verified) {
      d.runbookVerdict = 'accepted';
      d.verdict = 'refused';
      d.reason = `the runbook accepted it, but its signature does not verify: ${d.signature.reason ?? 'no valid proof'}`;
      delete d.detail;
    } else if (nonce !== undefined) nonces.add(nonce);
  }
  return out;
}

function nonceOf(payload: unknown): string | undefined {
  const statement = proofOf(payload)?.statement;
  if (statement === undefined) return undefined;
  try {
    const parsed = JSON.parse(statement) as { nonce?: unknown };
    return typeof parsed.nonce === 'string' ? parsed.nonce : undefined;
  } catch {
    return undefined;
  }
}

/** The accepted, verified decisions (and the start request) as the package's signatures/ folder holds them. */
function signatureFiles(
  start: { check: SignatureCheck; proof?: { statement: string; signature: string }; at: string },
  list: ReportDecision[],
): EvidenceReport['signatures'] {
  const entries: Omit<EvidenceReport['signatures'][number], 'file'>[] = [];
  if (start.check.verified && start.proof && start.check.signer && start.check.fingerprint) {
    entries.push({
      action: start.check.action ?? 'start',
      signer: start.check.signer,
      fingerprint: start.check.fingerprint,
      at: start.at,
      eventId: 1,
      ...start.proof,
    });
  }
  for (const d of list) {
    const proof = proofOf(d.payload);
    const { signer, fingerprint, action } = d.signature;
    if (d.verdict !== 'accepted' || !d.signature.verified || !proof || !signer || !fingerprint) continue;
    entries.push({ action: action ?? d.name, signer, fingerprint, at: d.at, eventId: d.eventId, ...proof });
  }
  const width = Math.max(2, String(entries.length).length);
  return entries.map((e, i) => ({
    file: `${String(i + 1).padStart(width, '0')}-${e.action}-${e.signer}`,
    ...e,
  }));
}

// ---- the report --------------------------------------------------------------------------------------

function runbookResult(value: unknown): RunbookResult | undefined {
  if (!isRecord(value) || !isRecord(value.status) || !Array.isArray(value.status.steps)) return undefined;
  return value as unknown as RunbookResult;
}

/** Builds the evidence report of one execution from its history and the replay verdict. */
export function buildEvidenceReport(history: History, options: BuildReportOptions): EvidenceReport {
  const facts = readHistoryFacts(history);
  const input = (isRecord(facts.input) ? facts.input : {}) as RunbookInput;
  // The group's definition is the worker's policy, recorded as the loadPolicy activity's result: the input
  // names the group only.
  const recorded = recordedPolicy(facts.activities);
  const group: GroupDefinition | undefined = recorded?.policy.group;
  const isRejoin = facts.workflowType === WORKFLOW_TYPES.rejoinRunbook;
  const region = (isRejoin ? input.region : input.failedRegion) ?? input.failedRegion ?? input.region ?? 'unknown';
  const result = runbookResult(facts.result);
  const running = facts.execution === 'running';

  const byActivity = new Map<ActivityEvents, StepName | undefined>();
  const byStep = new Map<StepName, ActivityEvents[]>();
  const summaries = activitySummaries(history);
  for (const a of facts.activities) {
    const step = activityStep(a, region, summaries.get(a.scheduledEventId));
    byActivity.set(a, step);
    if (step) byStep.set(step, [...(byStep.get(step) ?? []), a]);
  }

  const refused = result ? refusedFromResult(result.status.steps) : [];
  let partialReason: string | undefined;
  if (!result) {
    partialReason = running
      ? 'the workflow is still running: the step log is rebuilt from activity events and phase changes, and gate outcomes appear once it closes'
      : `the workflow ${facts.execution} without a runbook result (${facts.closeReason ?? 'no reason recorded'}): the step log is rebuilt from events`;
  }

  const lastPhase = facts.phases[facts.phases.length - 1]?.phase;
  const rerouted = facts.activities.find(
    (a) =>
      a.type === 'setEndpointStatus' && a.outcome === 'completed' && isRecord(a.input) && a.input.status === 'Disabled',
  );
  const outcome: EvidenceReport['outcome'] = {
    clean: false,
    summary:
      result?.summary ??
      (running
        ? `running, phase ${lastPhase ?? 'unknown'}`
        : `${facts.execution}: ${facts.closeReason ?? 'no runbook result'}`),
  };
  if (result?.outcome) outcome.outcome = result.outcome;
  if (lastPhase) outcome.phase = lastPhase;
  if (result?.rtoMs !== undefined) {
    outcome.rtoMs = result.rtoMs;
    outcome.rtoSource = 'result';
  } else if (!result && rerouted?.closedAtMs !== undefined) {
    outcome.rtoMs = Math.max(0, rerouted.closedAtMs - facts.startedAtMs);
    outcome.rtoSource = 'history-events';
  }

  const trafficModel = traffic(facts.activities, group);
  const members = membership(byStep, facts.activities, group);
  const finalState: EvidenceReport['finalState'] = { execution: facts.execution };
  if (result?.outcome) finalState.outcome = result.outcome;
  if (lastPhase) finalState.phase = lastPhase;
  if (trafficModel.after) {
    finalState.servingEndpoints = trafficModel.after.endpoints
      .filter((e) => e.endpointStatus === 'Enabled')
      .map((e) => e.name);
  }
  if (members.after.length) {
    finalState.membersListing = members.after
      .filter((m) => m.reachable)
      .map((m) => ({
        region: m.region,
        lists: (m.linkedDatabases ?? [])
          .filter((l) => l.state === 'Linked' && l.region !== m.region)
          .map((l) => l.region ?? l.id),
      }));
  }

  const workflow: EvidenceReport['workflow'] = {
    workflowId: options.workflowId,
    workflowType: facts.workflowType,
    execution: facts.execution,
    startedAt: facts.startedAt,
    historyEvents: facts.eventCount,
    lastEventAt: facts.lastEventAt,
  };
  if (facts.runId) workflow.runId = facts.runId;
  if (facts.taskQueue) workflow.taskQueue = facts.taskQueue;
  if (facts.closedAt) {
    workflow.closedAt = facts.closedAt;
    workflow.durationMs = span(facts.startedAt, facts.closedAt);
  }
  if (facts.startedByIdentity) workflow.startedByIdentity = facts.startedByIdentity;
  if (facts.staticSummary) workflow.summary = facts.staticSummary;
  if (facts.closeReason && facts.execution !== 'completed') workflow.closeReason = facts.closeReason;

  const ctx: CheckContext = {
    recorded,
    workflowId: options.workflowId,
    ...(facts.runId ? { runId: facts.runId } : {}),
    ...(facts.runIds.length > 1 ? { runIds: facts.runIds } : {}),
    ...(result ? { gates: recordedGates(result.status.steps) } : {}),
  };
  const startProof = isRecord(input.request) ? proofOf({ proof: input.request }) : undefined;
  const startTarget = group?.members?.[region];
  const startCheck = checkDecision(input.request, recorded, {
    name: 'start',
    payload: input.request,
    workflowId: options.workflowId,
    ...(facts.runId ? { runId: facts.runId } : {}),
    atMs: facts.startedAtMs,
    ...(startTarget ? { startTarget } : {}),
    mode: (input as { mode?: unknown }).mode,
  });
  // The step log's word (the status, the validate-input evidence) only when the auditor cannot verify the signer.
  const validateEvidence = result?.status.steps.find((s) => s.step === 'validate-input')?.evidence;
  const claimedRequester =
    result?.status.requestedBy ??
    (isRecord(validateEvidence) && isRecord(validateEvidence.request)
      ? str(validateEvidence.request.signer)
      : undefined);
  const request: EvidenceReport['request'] = {
    requestedBy: startCheck.verified
      ? (startCheck.signer as string)
      : (claimedRequester ?? startCheck.signer ?? 'unknown'),
    signature: reportSignature(startCheck),
    reason: str(input.reason) ?? 'unknown',
    region,
    regionRole: isRejoin ? 'rejoining' : 'failed',
    group: (group ?? {}) as unknown as Record<string, unknown>,
  };
  const digest = recorded?.policy.digest ?? result?.status.policyDigest;
  if (digest) request.policyDigest = digest;
  if (input.acceptSettingsMismatch !== undefined) request.acceptSettingsMismatch = input.acceptSettingsMismatch;
  // Shown only as the runbook would have accepted it (validate-input refuses anything else).
  if (typeof input.incident === 'string' && INCIDENT_ID.test(input.incident)) request.incident = input.incident;
  if (input.tuning !== undefined) request.tuning = input.tuning;

  const target = group?.durations?.rtoTarget;
  const targetMs = rtoTargetMs(target);
  if (targetMs !== undefined) {
    outcome.rtoTarget = String(target);
    outcome.rtoTargetMs = targetMs;
    if (outcome.rtoMs !== undefined) outcome.rtoMet = outcome.rtoMs <= targetMs;
  }

  const decisionList = decisions(facts, result, ctx);
  const code = codeVersion();
  const report: Omit<EvidenceReport, 'decisionTable' | 'openItems'> = {
    schemaVersion: 1,
    generatedAt: options.generatedAt ?? new Date().toISOString(),
    generator: { name: 'geofailover', version: code.version, ...(code.commit ? { commit: code.commit } : {}) },
    environment: environmentOf(recorded?.armEndpoint),
    source: options.source,
    partial: !result,
    workflow,
    request,
    signatures: signatureFiles({ check: startCheck, proof: startProof, at: facts.startedAt }, decisionList),
    outcome,
    steps: result ? stepsFromResult(result.status.steps) : stepsFromEvents(facts, byStep, running),
    phases: facts.phases,
    gates: result ? gatesFromResult(result.status.steps, decisionList, ctx) : [],
    decisions: decisionList,
    refusedAttempts: refused,
    membership: members,
    memory: memory(facts.activities, group),
    probes: probes(facts.activities, byActivity),
    traffic: trafficModel,
    activities: activityRows(facts.activities, byActivity),
    finalState,
    replay: { ...options.replay, ...(options.replay.mismatch ? { mismatch: { ...options.replay.mismatch } } : {}) },
  };
  if (recorded) {
    report.policy = {
      digest: recorded.policy.digest,
      digestMatches: recorded.digestMatches,
      eventId: recorded.eventId,
      people: recorded.policy.people,
      fingerprints: keyFingerprints(recorded.policy.people),
    };
  }
  if (partialReason) report.partialReason = partialReason;
  const items = openItems(report);
  report.outcome.clean = items.length === 0 && report.workflow.execution === 'completed';
  return { ...report, openItems: items, decisionTable: decisionTable(report) };
}
