// What the runbook tells people, as workflow data: a gate that needs them (approval or intervention), an
// escalation, the end of the run. Pure; the activity shapes it for Slack, Teams or generic JSON.
import type { NotificationEvent, RunbookNotification } from '../../contract/activities';
import type { RunbookResult } from '../../contract/runbook';
import { bounded as boundedText } from './bounded';
import { escalationNotice, type EscalatingGate } from './gate';

export interface NoticeContext {
  workflowId: string;
  group: string;
  region: string;
  /** absent or incident: an incident; a rehearsal's (and a drill's) notices say so in their title */
  mode?: 'incident' | 'rehearsal' | 'drill';
}

/** What a scheduled rehearsal's notices say of its schedule. */
export type ScheduleNotice = NonNullable<RunbookNotification['schedule']>;

/** `Rehearsal — ` before a rehearsal's titles (likewise a drill's), so nobody takes it for an outage. */
function kindPrefix(context: NoticeContext): string {
  return context.mode === 'rehearsal' ? 'Rehearsal — ' : context.mode === 'drill' ? 'Drill — ' : '';
}

/** The mode field of a rehearsal's or a drill's notification. */
function modeOf(context: NoticeContext): Pick<RunbookNotification, 'mode'> {
  return context.mode === 'rehearsal' || context.mode === 'drill' ? { mode: context.mode } : {};
}

/**
 * A schedule started a rehearsal: it drains the region now, and its gates will wait on people (a standing order
 * starts it; it approves nothing).
 */
export function rehearsalStartedNotification(
  context: NoticeContext,
  schedule: ScheduleNotice,
  at: string,
): RunbookNotification {
  return {
    event: 'rehearsal-started',
    workflowId: context.workflowId,
    group: context.group,
    region: context.region,
    title: boundedText(`Rehearsal started on schedule: ${context.group} drains ${context.region}`, 200),
    text: boundedText(
      `Schedule ${schedule.scheduleId} started a rehearsal of ${context.group}: traffic drains from ` +
        `${context.region} and comes back. It is not an outage. Its gates wait on people: an approval needs ` +
        `approvers other than ${schedule.orderedBy}, who signed the standing order (valid until ` +
        `${schedule.orderExpiresAt}). Abort at any time restores traffic.`,
      1000,
    ),
    evidence: [],
    howToAnswer: [
      `geofailover status ${context.workflowId} --watch`,
      `geofailover abort ${context.workflowId} --key KEY_FILE --reason TEXT`,
    ],
    mode: 'rehearsal',
    schedule,
    at,
  };
}

const MAX_FACTS = 12;
const MAX_VALUE = 300;

/** A value as one short line: strings as they are, anything else as compact JSON, cut to a bound. */
function show(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return boundedText(text, MAX_VALUE);
}

/** The request behind a gate (its evidence, or the failure of an intervention) as label → value facts. */
export function evidenceFacts(request: unknown): { label: string; value: string }[] {
  if (request === null || request === undefined) return [];
  if (typeof request !== 'object' || Array.isArray(request)) return [{ label: 'Request', value: show(request) }];
  const entries = Object.entries(request as Record<string, unknown>);
  const facts: { label: string; value: string }[] = [];
  for (const [key, value] of entries) {
    // An intervention's request is { failure: {...} }: show the failure's own fields.
    if (key === 'failure' && value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v !== undefined) facts.push({ label: `failure.${k}`, value: show(v) });
      }
    } else if (value !== undefined) facts.push({ label: key, value: show(value) });
  }
  return facts.slice(0, MAX_FACTS).map((f) => ({ label: boundedText(f.label, 64), value: f.value }));
}

/** A gate that needs people, or its escalation: what it asks, the evidence, and the exact commands. */
export function gateNotification(
  event: Extract<NotificationEvent, 'approval-needed' | 'intervention-needed' | 'escalation'>,
  gate: EscalatingGate,
  context: NoticeContext,
  at: string,
): RunbookNotification {
  const { body } = escalationNotice(gate, context);
  const open = gate.openGate(context.workflowId);
  const what = gate.kind === 'approval' ? 'Approval needed' : 'Intervention needed';
  const title =
    kindPrefix(context) +
    (event === 'escalation'
      ? `Escalation: ${gate.name} of ${context.group} is unanswered`
      : `${what}: ${gate.name} of ${context.group}`);
  const waitingFor = String(body.waitingFor);
  const text =
    event === 'escalation'
      ? `Gate ${gate.name} (${context.workflowId}, region ${context.region}) has waited since ${open.requestedAt} and ` +
        `still needs ${waitingFor}. It stops safely at ${open.expiresAt ?? 'its expiry'} if nobody answers.`
      : gate.kind === 'approval'
        ? context.mode === 'rehearsal'
          ? `The rehearsal of ${context.group} (region ${context.region}, healthy, drained on purpose) waits at ` +
            `${gate.name} and needs ${waitingFor}.`
          : `The runbook for ${context.group} (failed region ${context.region}) waits at ${gate.name} and needs ${waitingFor}.`
        : `Step ${open.step ?? gate.name} of the runbook for ${context.group} (region ${context.region}) failed after its ` +
          `retries and waits for ${waitingFor}.`;
  return {
    event,
    workflowId: context.workflowId,
    group: context.group,
    region: context.region,
    title: boundedText(title, 200),
    text: boundedText(text, 1000),
    gate: {
      name: gate.name,
      kind: gate.kind,
      step: open.step ?? gate.name,
      instance: open.instance ?? 1,
      requestedAt: open.requestedAt,
      waitingFor: boundedText(waitingFor, 300),
      ...(open.escalatesAt !== undefined ? { escalatesAt: open.escalatesAt } : {}),
      ...(open.expiresAt !== undefined ? { expiresAt: open.expiresAt } : {}),
    },
    evidence: evidenceFacts(open.request),
    howToAnswer: (body.howToAnswer as string[]).map((c) => boundedText(c, 500)),
    ...modeOf(context),
    at,
  };
}

/** How the run ended: outcome, summary and RTO. */
export function runEndedNotification(result: RunbookResult, context: NoticeContext, at: string): RunbookNotification {
  const title =
    kindPrefix(context) +
    (result.outcome === 'completed'
      ? `Runbook completed: ${context.group} (${context.region})`
      : `Runbook ${result.outcome}: ${context.group} (${context.region})`);
  return {
    event: 'run-ended',
    workflowId: context.workflowId,
    group: context.group,
    region: context.region,
    title: boundedText(title, 200),
    text: boundedText(result.summary, 1000),
    evidence: [],
    howToAnswer: [],
    outcome: result.outcome,
    ...modeOf(context),
    ...(result.rtoMs !== undefined ? { rtoMs: result.rtoMs } : {}),
    at,
  };
}
