/**
 * The DR evidence summary from the runs of a period: one row per run (its kind from the input's mode, its
 * outcome, RTO, approvals and replay verdict from its evidence report), every destructive ARM call with its times
 * (from the history's activity events of the destructive steps), and the answer to "was DR tested in the period,
 * and did it meet the target?". Pure: the same histories and reports give the same summary, which is how
 * `evidence --verify` checks it.
 */
import { isRecord, str } from '../report/observations';
import { WORKFLOW_TYPES } from '../../contract/names';
import { RUNBOOK_MODES, type RunbookMode } from '../../contract/runbook';
import { stepSpec, isStepName } from '../../contract/steps';
import { activitySummaries, type History } from '../history';
import { readHistoryFacts } from '../report/events';
import { activityStep } from '../report/model';
import type { EvidenceReport } from '../report/schema';
import type { DrDestructiveCall, DrEvidence, DrGroupAnswer, DrRun, RunKind } from './schema';

/** One run of the period as the summary reads it: its (merged) history and its evidence report. */
export interface PeriodRun {
  history: History;
  report: EvidenceReport;
  /** its evidence package, relative to the DR package, and the sha256 of that package's SHA256SUMS */
  package?: { dir: string; sums: string };
}

/**
 * The run's kind: the input's `mode` ('incident' | 'rehearsal' | 'drill'); absent (older runs, incidents, rejoins)
 * means an incident. Anything else is no mode the runbook knows: counted as an incident, never as a test.
 */
export function runKind(input: unknown): RunKind {
  const mode = isRecord(input) ? input.mode : undefined;
  return typeof mode === 'string' && (RUNBOOK_MODES as readonly string[]).includes(mode)
    ? (mode as RunbookMode)
    : 'incident';
}

/** The activities that make the destructive ARM calls of the destructive steps, and what each call is. */
const DESTRUCTIVE_ACTIVITIES: Record<string, (input: Record<string, unknown>) => DrDestructiveCall['kind']> = {
  forceUnlink: () => 'force-unlink',
  rejoinMember: (input) => (input.method === 'recreate' ? 'database-creation' : 'force-link'),
};

/** Every destructive ARM call a run's history asked for, in the order it was scheduled. */
export function destructiveCalls(history: History, report: EvidenceReport): DrDestructiveCall[] {
  const facts = readHistoryFacts(history);
  const summaries = activitySummaries(history);
  const group = groupName(report);
  const calls: DrDestructiveCall[] = [];
  for (const a of facts.activities) {
    const kindOf = DESTRUCTIVE_ACTIVITIES[a.type];
    if (!kindOf) continue;
    const step = activityStep(a, report.request.region, summaries.get(a.scheduledEventId));
    // Only what the step table marks destructive: the table is where a step's nature is decided.
    if (!step || !isStepName(step) || !stepSpec(step).destructive) continue;
    const input = isRecord(a.input) ? a.input : {};
    const result = isRecord(a.result) ? a.result : {};
    const skipped = result.skipped === true;
    const resumed = result.resumed === true;
    const found = typeof result.foundAtAttempt === 'number' ? result.foundAtAttempt : undefined;
    const call: DrDestructiveCall = {
      workflowId: report.workflow.workflowId,
      group,
      kind: kindOf(input),
      step,
      activity: a.type,
      scheduledAt: a.scheduledAt,
      outcome: a.outcome,
      called: a.outcome !== 'pending' && !skipped,
      eventId: a.scheduledEventId,
    };
    if (report.workflow.runId) call.runId = report.workflow.runId;
    const databaseId = str(input.failedDatabaseId) ?? str(input.databaseId);
    if (databaseId) call.databaseId = databaseId;
    const calledOn = str(result.calledOn);
    if (calledOn) call.calledOn = calledOn;
    if (a.startedAt) call.startedAt = a.startedAt;
    if (a.closedAt) call.closedAt = a.closedAt;
    if (a.attempt !== undefined) call.attempt = a.attempt;
    const operationId = str(result.operationId);
    if (operationId) call.operationId = operationId;
    const notes: string[] = [];
    if (skipped) notes.push(`skipped, nothing called${str(result.reason) ? `: ${str(result.reason)}` : ''}`);
    if (found !== undefined) notes.push(`found done at attempt ${found}: an earlier attempt made the call`);
    if (resumed) notes.push('resumed the operation an earlier attempt started');
    if (a.outcome === 'failed' || a.outcome === 'timed-out') notes.push(a.failure ?? a.outcome);
    if (a.outcome === 'pending') notes.push('still running when the package was written');
    if (notes.length) call.note = notes.join('; ');
    calls.push(call);
  }
  return calls;
}

function groupName(report: EvidenceReport): string {
  const g = report.request.group as { name?: unknown };
  return typeof g.name === 'string' ? g.name : '(unknown)';
}

/** The summary row of one run. */
export function runRow(run: PeriodRun): DrRun {
  const { report } = run;
  const facts = readHistoryFacts(run.history);
  const w = report.workflow;
  const o = report.outcome;
  const calls = destructiveCalls(run.history, report).filter((c) => c.called);
  const row: DrRun = {
    workflowId: w.workflowId,
    workflowType: w.workflowType,
    kind: runKind(facts.input),
    group: groupName(report),
    region: report.request.region,
    environment: report.environment.mode,
    startedAt: w.startedAt,
    execution: w.execution,
    outcome: o.outcome ?? w.execution,
    clean: o.clean,
    rto: {},
    destructive: {
      exercised: calls.length > 0,
      forceUnlink: calls.some((c) => c.kind === 'force-unlink'),
      rejoin: calls.some((c) => c.kind !== 'force-unlink'),
    },
    requestedBy: report.request.requestedBy,
    requestSigned: report.request.signature.verified,
    approvals: report.decisionTable
      .filter((d) => d.decision !== 'start')
      .map((d) => ({ who: d.who, gate: d.gate, decision: d.decision, signed: d.signed, at: d.at })),
    replay: { verdict: report.replay.verdict, checkedAt: report.replay.checkedAt, against: report.replay.against },
  };
  if (w.runId) row.runId = w.runId;
  if (report.request.incident) row.incident = report.request.incident;
  if (w.closedAt) row.closedAt = w.closedAt;
  if (o.rtoMs !== undefined) row.rto.ms = o.rtoMs;
  if (o.rtoTarget !== undefined) row.rto.target = o.rtoTarget;
  if (o.rtoTargetMs !== undefined) row.rto.targetMs = o.rtoTargetMs;
  if (o.rtoMet !== undefined) row.rto.met = o.rtoMet;
  if (run.package) row.package = { ...run.package };
  return row;
}

/**
 * A rejoinRunbook carries no mode: it finishes what the group's last failover of the package left (a region
 * unlinked), so it is of that failover's kind — a rehearsal's rejoin is part of the rehearsal. Without an earlier
 * failover of the group in the package, it is an incident's. Rows oldest first.
 */
export function inheritRejoinKinds(rows: readonly DrRun[]): DrRun[] {
  return rows.map((row, i) => {
    if (row.workflowType !== WORKFLOW_TYPES.rejoinRunbook || row.kind !== 'incident') return row;
    const failover = rows
      .slice(0, i)
      .reverse()
      .find((r) => r.group === row.group && r.workflowType === WORKFLOW_TYPES.failoverRunbook);
    return failover && failover.kind !== row.kind ? { ...row, kind: failover.kind } : row;
  });
}

const isTest = (r: DrRun): boolean => r.kind === 'rehearsal' || r.kind === 'drill';
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Per group in scope: its runs by kind, whether a test completed, and its RTOs against the target. */
export function groupAnswers(runs: readonly DrRun[], groups: readonly string[]): DrGroupAnswer[] {
  const names = [...new Set([...groups, ...runs.map((r) => r.group)])];
  return names.map((group) => {
    const own = runs.filter((r) => r.group === group);
    const tests = own.filter((r) => isTest(r) && r.outcome === 'completed');
    const measured = own.filter((r) => r.rto.met !== undefined);
    const target = [...own].reverse().find((r) => r.rto.target !== undefined)?.rto.target;
    const answer: DrGroupAnswer = {
      group,
      runs: own.length,
      rehearsals: own.filter((r) => r.kind === 'rehearsal').length,
      drills: own.filter((r) => r.kind === 'drill').length,
      incidents: own.filter((r) => r.kind === 'incident').length,
      tested: tests.length > 0,
      measured: measured.length,
      met: measured.filter((r) => r.rto.met).length,
      missed: measured.filter((r) => r.rto.met === false).length,
      destructiveExercised: own.some((r) => r.destructive.exercised),
    };
    const last = tests[tests.length - 1];
    if (last) answer.lastTest = last.startedAt;
    if (target !== undefined) answer.rtoTarget = target;
    return answer;
  });
}

/** The answer at the top of the page. */
export function answerOf(runs: readonly DrRun[], groups: readonly string[]): DrEvidence['answer'] {
  const perGroup = groupAnswers(runs, groups);
  const tested = perGroup.length > 0 && perGroup.every((g) => g.tested);
  const measured = perGroup.reduce((n, g) => n + g.measured, 0);
  const missed = perGroup.reduce((n, g) => n + g.missed, 0);
  const untested = perGroup.filter((g) => !g.tested).map((g) => g.group);
  const testedText = !perGroup.length
    ? 'DR was not tested in the period: no group in scope and no run'
    : tested
      ? `DR was tested in the period: every group in scope (${perGroup.length}) completed a rehearsal or drill`
      : `DR was NOT tested in the period for ${untested.join(', ')} (no completed rehearsal or drill)`;
  const rtoText = !measured
    ? 'no run measured an RTO against a target'
    : missed
      ? `the RTO target was MISSED in ${missed} of ${plural(measured, 'measured run')}`
      : `the RTO target was met in ${measured} of ${plural(measured, 'measured run')}`;
  const answer: DrEvidence['answer'] = { tested, headline: `${testedText}; ${rtoText}.`, groups: perGroup };
  if (measured) answer.rtoMet = missed === 0;
  return answer;
}

/** Runs oldest first, then by workflow id (a stable order for the same period). */
export function sortRuns<T extends { report: EvidenceReport }>(runs: readonly T[]): T[] {
  return [...runs].sort(
    (a, b) =>
      a.report.workflow.startedAt.localeCompare(b.report.workflow.startedAt) ||
      a.report.workflow.workflowId.localeCompare(b.report.workflow.workflowId),
  );
}

/** The rows, the destructive calls and the answer of a period's runs (sorted oldest first). */
export function summarise(
  runs: readonly PeriodRun[],
  groups: readonly string[],
): Pick<DrEvidence, 'runs' | 'destructiveCalls' | 'answer' | 'replayVerified'> {
  const sorted = sortRuns(runs);
  const rows = inheritRejoinKinds(sorted.map(runRow));
  const calls = sorted
    .flatMap((r) => destructiveCalls(r.history, r.report))
    .sort((a, b) => a.scheduledAt.localeCompare(b.scheduledAt));
  return {
    runs: rows,
    destructiveCalls: calls,
    answer: answerOf(rows, groups),
    replayVerified: rows.every((r) => r.replay.verdict === 'verified'),
  };
}
