/**
 * The evidence model of one runbook execution, built from its history only (the durable truth, not the
 * live query): the input (who, why, the group acted on), the step log from the completion result — or,
 * while the runbook runs, rebuilt from activity events and phase changes (the report then says it is
 * partial) — and, from activity events, membership, memory, probes and Traffic Manager.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DecideResult } from '../../contract/messages';
import { STEP_NAMES, WORKFLOW_TYPES, type StepName } from '../../contract/names';
import type { FailoverRunbookInput, GroupDefinition, RejoinRunbookInput, RunbookResult } from '../../contract/runbook';
import type { GateRecord, RefusedAttempt, StepRecord } from '../../contract/types';
import type { History } from '../history';
import type { ReplayVerdict } from '../replay';
import { readHistoryFacts, type ActivityEvents, type HistoryFacts } from './events';
import { activityRows, isRecord, membership, memory, probes, str, traffic } from './observations';
import type { EvidenceReport, ReportDecision, ReportGate, ReportRefusedAttempt, ReportStep } from './schema';

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

let version: string | undefined;
/** geofailover's version, from the package.json above this file (source or build). */
export function generatorVersion(): string {
  if (version) return version;
  version = '0.0.0';
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!existsSync(file)) continue;
    try {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'geofailover' && pkg.version) {
        version = pkg.version;
        break;
      }
    } catch {
      // keep looking
    }
  }
  return version;
}

// ---- which step an activity served -------------------------------------------------------------------

function activityStep(a: ActivityEvents, failedRegion: string): StepName | undefined {
  const input = isRecord(a.input) ? a.input : {};
  const phase = a.phase ?? 'validating';
  switch (a.type) {
    case 'describeMember':
      if (phase === 'validating') return 'membership';
      if (phase === 'rejoining' || phase === 'failing-back') return 'rejoin';
      // await-recovery polls read the failed member; force-unlink verifies on the survivors.
      if (str(input.region) === failedRegion) return 'await-recovery';
      return phase === 'unlinking' ? 'force-unlink' : 'await-recovery';
    case 'readMemory':
      return phase === 'validating' ? 'memory' : 'await-recovery';
    case 'probeEndpoints':
      return phase === 'failing-back' ? 'traffic-failback' : 'firewall';
    case 'setEndpointStatus':
      return input.status === 'Enabled' ? 'traffic-failback' : 'traffic-reroute';
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
  const anyActivity = facts.activities.length > 0;
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

function gatesFromResult(steps: StepRecord[]): ReportGate[] {
  return steps.flatMap((s) =>
    (s.gates ?? []).map((g: GateRecord): ReportGate => {
      const gate: ReportGate = {
        step: s.step,
        gate: g.gate,
        kind: g.kind,
        requestedAt: g.requestedAt,
        quorum: g.quorum,
        eligibleApprovers: g.eligibleApprovers ?? [],
        votes: (g.votes ?? []).map((v) => ({ ...v })),
      };
      if (g.outcome) gate.outcome = g.outcome;
      if (g.decidedAt) gate.decidedAt = g.decidedAt;
      if (g.escalatedAt) gate.escalatedAt = g.escalatedAt;
      if (g.interventions) gate.interventions = g.interventions.map((i) => ({ ...i }));
      if (g.request !== undefined) gate.request = g.request;
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

function decisions(facts: HistoryFacts, refused: ReportRefusedAttempt[] | undefined): ReportDecision[] {
  const unused = refused ? refused.filter((r) => r.via === 'signal') : undefined;
  const out: ReportDecision[] = [];
  for (const s of facts.signals) {
    const payload = isRecord(s.payload) ? s.payload : {};
    const actor = str(payload.approver) ?? str(payload.by);
    const d: ReportDecision = {
      eventId: s.eventId,
      at: s.at,
      kind: 'signal',
      name: s.name,
      payload: s.payload,
      verdict: 'unknown',
    };
    if (actor) d.actor = actor;
    if (s.identity) d.identity = s.identity;
    if (unused) {
      // Every handler either records a refusal in the step log or acts: no refusal means accepted.
      const action = signalAction(s.name, s.payload);
      const i = unused.findIndex((r) => r.action === action && r.by === (actor ?? '(unknown)'));
      if (i >= 0) {
        d.verdict = 'refused';
        d.reason = (unused.splice(i, 1)[0] as ReportRefusedAttempt).reason;
      } else d.verdict = 'accepted';
    }
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
    };
    if (actor) d.actor = actor;
    if (u.identity) d.identity = u.identity;
    if (u.completed?.success) {
      const result = (u.completed.result ?? {}) as Partial<DecideResult>;
      d.verdict = result.accepted === false ? 'refused' : 'accepted';
      if (result.reason) d.reason = result.reason;
      if (result.detail) d.detail = result.detail;
    } else if (u.completed) {
      d.verdict = 'failed';
      d.reason = u.completed.failure;
    }
    out.push(d);
  }
  return out.sort((a, b) => a.eventId - b.eventId);
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
  const group = isRecord(input.group) ? (input.group as GroupDefinition) : undefined;
  const isRejoin = facts.workflowType === WORKFLOW_TYPES.rejoinRunbook;
  const region = (isRejoin ? input.region : input.failedRegion) ?? input.failedRegion ?? input.region ?? 'unknown';
  const result = runbookResult(facts.result);
  const running = facts.execution === 'running';

  const byActivity = new Map<ActivityEvents, StepName | undefined>();
  const byStep = new Map<StepName, ActivityEvents[]>();
  for (const a of facts.activities) {
    const step = activityStep(a, region);
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

  const request: EvidenceReport['request'] = {
    requestedBy: input.requestedBy ?? 'unknown',
    reason: input.reason ?? 'unknown',
    region,
    regionRole: isRejoin ? 'rejoining' : 'failed',
    group: (group ?? {}) as unknown as Record<string, unknown>,
  };
  if (input.acceptSettingsMismatch !== undefined) request.acceptSettingsMismatch = input.acceptSettingsMismatch;
  if (input.tuning !== undefined) request.tuning = input.tuning;

  const report: EvidenceReport = {
    schemaVersion: 1,
    generatedAt: options.generatedAt ?? new Date().toISOString(),
    generator: { name: 'geofailover', version: generatorVersion() },
    source: options.source,
    partial: !result,
    workflow,
    request,
    outcome,
    steps: result ? stepsFromResult(result.status.steps) : stepsFromEvents(facts, byStep, running),
    phases: facts.phases,
    gates: result ? gatesFromResult(result.status.steps) : [],
    decisions: decisions(facts, result ? refused : undefined),
    refusedAttempts: refused,
    membership: members,
    memory: memory(facts.activities, group),
    probes: probes(facts.activities, byActivity),
    traffic: trafficModel,
    activities: activityRows(facts.activities, byActivity),
    finalState,
    replay: { ...options.replay, ...(options.replay.mismatch ? { mismatch: { ...options.replay.mismatch } } : {}) },
  };
  if (partialReason) report.partialReason = partialReason;
  return report;
}
