/**
 * Text renderers of what the runbook commands return. The `--json` forms are the values themselves;
 * these are for a commander reading a terminal at 3 a.m.
 */
import { workflowIds } from '../contract/names';
import type { OpenGate, StepRecord } from '../contract/types';
import type { RunbookView } from '../starter';
import { renderGateRequest } from '../contract/format';
import { formatDuration, formatTable } from './output';
import type { FailoverPlan } from './resolve';

export { renderGateRequest };

/** What to type to address a runbook: the group name for `failover/<group>`, else the workflow id. */
export function runbookRef(workflowId: string): string {
  const prefix = workflowIds.failover('');
  return workflowId.startsWith(prefix) && !workflowId.slice(prefix.length).includes('/')
    ? workflowId.slice(prefix.length)
    : workflowId;
}

function stepDuration(step: StepRecord, now: number): string {
  if (!step.startedAt) return '';
  const start = Date.parse(step.startedAt);
  const end = step.endedAt ? Date.parse(step.endedAt) : now;
  const text = formatDuration(end - start);
  return step.endedAt ? text : `${text}…`;
}

export function isInterventionGate(gate: OpenGate): boolean {
  return gate.kind ? gate.kind === 'intervention' : !gate.gate.startsWith('approval-');
}

/** The open gate and exactly what to type to answer it. */
export function renderGate(gate: OpenGate, workflowId: string): string[] {
  const ref = runbookRef(workflowId);
  const approvals = gate.approvals.length ? ` (${gate.approvals.join(', ')})` : '';
  const lines = [
    `open gate: ${gate.gate}, ${gate.approvals.length} of ${gate.quorum} approval(s)${approvals}, requested ${gate.requestedAt}`,
  ];
  lines.push(...renderGateRequest(gate.request));
  if (gate.eligibleApprovers) lines.push(`  may approve: ${gate.eligibleApprovers.join(', ') || '(nobody left)'}`);
  if (gate.skipRequestedBy) lines.push(`  skip requested by ${gate.skipRequestedBy}: waiting for approval`);
  if (gate.escalatedAt) lines.push(`  escalated ${gate.escalatedAt}; stops safely ${gate.expiresAt ?? 'later'}`);
  else if (gate.escalatesAt) lines.push(`  escalates ${gate.escalatesAt}`);
  if (isInterventionGate(gate)) {
    lines.push(`  answer:   geofailover intervene ${ref} --action retry|skip|abort --key FILE [--comment TEXT]`);
    lines.push(`  a skip needs approval by someone else: geofailover approve ${ref} --key FILE`);
  } else {
    lines.push(`  approve:  geofailover approve ${ref} --key FILE [--comment TEXT]`);
    lines.push(`  reject:   geofailover reject ${ref} --key FILE [--comment TEXT]`);
  }
  return lines;
}

/** The status table: one row per step, then the open gate or the outcome. */
export function renderStatus(view: RunbookView, now = Date.now()): string[] {
  const lines = [
    `${view.workflowId}  ${view.workflowType}  ${view.execution}  (started ${view.startedAt}` +
      `${view.closedAt ? `, closed ${view.closedAt}` : ''}, task queue ${view.taskQueue})`,
  ];
  if (view.summary) lines.push(view.summary);
  const s = view.status;
  if (s) {
    lines.push(
      s.mode === 'rehearsal'
        ? `REHEARSAL of group ${s.group}, drained region ${s.failedRegion}, phase ${s.phase}, current step ${s.currentStep ?? '(none)'}`
        : `${s.mode === 'drill' ? 'DRILL: ' : ''}group ${s.group}, failed region ${s.failedRegion}, phase ${s.phase}, current step ${s.currentStep ?? '(none)'}`,
    );
    if (s.continued) {
      // A long outage: the step log covers every run of the incident.
      lines.push(
        `run ${s.continued.run} of this incident (continued as new; incident started ${s.continued.incidentStartedAt}, ` +
          `first run ${s.continued.firstRunId})`,
      );
    }
    lines.push('');
    lines.push(
      ...formatTable(
        ['STEP', 'STATUS', 'ATTEMPTS', 'DURATION', 'ACTOR', 'SUMMARY'],
        s.steps.map((step) => [
          step.step,
          step.status,
          String(step.attempts),
          stepDuration(step, now),
          step.actor ?? '',
          step.summary,
        ]),
      ),
    );
    if (view.source === 'result') lines.push('(final step log, from the workflow result)');
  }
  if (s?.openGate && view.execution === 'running') {
    lines.push('');
    lines.push(...renderGate(s.openGate, view.workflowId));
  }
  if (view.outcome) {
    lines.push('');
    const rto =
      view.rtoMs !== undefined && !view.outcomeSummary?.includes('RTO') ? ` (RTO ${formatDuration(view.rtoMs)})` : '';
    lines.push(`outcome: ${view.outcome}${view.outcomeSummary ? `: ${view.outcomeSummary}` : ''}${rto}`);
  }
  if (view.note) {
    lines.push('');
    lines.push(`note: ${view.note}`);
  }
  return lines;
}

/** One line for a step that changed, as `--watch` and `--wait` print them. */
export function renderStepLine(step: StepRecord, at: string): string {
  const attempts = step.attempts > 1 ? ` (attempt ${step.attempts})` : '';
  const actor = step.actor ? ` [${step.actor}]` : '';
  return `${at.slice(11, 19)}  ${step.step.padEnd(16)} ${step.status.padEnd(9)} ${step.summary}${attempts}${actor}`;
}

export function renderPlan(plan: FailoverPlan): string[] {
  const lines = [
    `dry run: nothing was started or changed.`,
    `would start ${plan.workflowType} ${plan.workflowId} on task queue ${plan.taskQueue}`,
    `group ${plan.group}: ${plan.failedRegion} failed; survivors ${plan.survivors.join(', ')}`,
    `requested by ${plan.requestedBy}: ${plan.reason}`,
    '',
  ];
  plan.steps.forEach((step, i) => {
    const marks = [
      step.destructive ? 'DESTRUCTIVE' : '',
      step.mutatesTrafficManager ? 'changes Traffic Manager' : '',
      step.gate !== 'none' ? `after ${step.gate}` : '',
    ].filter(Boolean);
    lines.push(
      `${String(i + 1).padStart(2)}. ${step.step}: ${step.action}` + (marks.length ? ` [${marks.join('; ')}]` : ''),
    );
    lines.push(`      phase ${step.phase}; calls ${step.calls.join(', ') || 'nothing'}`);
    for (const target of step.targets) lines.push(`      - ${target}`);
  });
  lines.push('');
  lines.push('gates:');
  for (const g of plan.gates) {
    lines.push(
      `  ${g.gate}: quorum ${g.quorum}, approvers ${g.approvers.join(', ')}` +
        (g.eligible.length < g.approvers.length ? ` (not ${plan.requestedBy}, the requester)` : '') +
        `; escalates after ${String(g.approvalTimeout)}, stops safely ${String(g.escalationTimeout)} later`,
    );
  }
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  lines.push('');
  lines.push(
    `to run it: geofailover start ${plan.group} --failed-region ${plan.failedRegion} ` +
      `--reason ${JSON.stringify(plan.reason)} --by ${plan.requestedBy}` +
      (plan.input.acceptSettingsMismatch ? ' --accept-settings-mismatch' : ''),
  );
  return lines;
}
