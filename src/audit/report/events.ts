/**
 * One pass over a workflow history: the start, the phases, every activity with its decoded input and
 * result, every signal and update with the identity that sent it, and how the execution closed. The
 * report model is built from this; nothing here interprets the runbook.
 */
import type { temporal } from '@temporalio/proto';
import {
  decodeFirst,
  eventId,
  eventTime,
  eventTimeMs,
  eventType,
  type History,
  type HistoryEvent,
  toNumber,
} from '../history';
import { SEARCH_ATTRIBUTES } from '../../contract/names';

type Failure = temporal.api.failure.v1.IFailure | null | undefined;

export interface ActivityEvents {
  activityId: string;
  type: string;
  taskQueue?: string;
  input: unknown;
  scheduledEventId: number;
  scheduledAt: string;
  scheduledAtMs: number;
  /** the workflow task that scheduled it: activities scheduled together share it */
  workflowTaskCompletedEventId: number;
  /** the RunbookPhase in force when it was scheduled */
  phase?: string;
  startedAt?: string;
  attempt?: number;
  identity?: string;
  closedAt?: string;
  closedAtMs?: number;
  closedEventId?: number;
  outcome: 'completed' | 'failed' | 'timed-out' | 'canceled' | 'pending';
  result?: unknown;
  failure?: string;
}

export interface SignalEvent {
  eventId: number;
  at: string;
  name: string;
  payload: unknown;
  identity?: string;
}

export interface UpdateEvent {
  eventId: number;
  at: string;
  updateId: string;
  name: string;
  payload: unknown;
  identity?: string;
  completed?: { success: true; result: unknown } | { success: false; failure: string };
}

export type Execution =
  'running' | 'completed' | 'failed' | 'canceled' | 'terminated' | 'timed-out' | 'continued-as-new';

export interface HistoryFacts {
  workflowType: string;
  taskQueue?: string;
  startedAt: string;
  startedAtMs: number;
  startedByIdentity?: string;
  staticSummary?: string;
  input: unknown;
  runId?: string;
  /** every run of the incident, first run first: more than one when the runbook continued as new */
  runIds: string[];
  phases: { phase: string; at: string; eventId: number }[];
  activities: ActivityEvents[];
  signals: SignalEvent[];
  updates: UpdateEvent[];
  execution: Execution;
  closedAt?: string;
  closedAtMs?: number;
  /** the WorkflowExecutionCompleted result */
  result?: unknown;
  closeReason?: string;
  eventCount: number;
  lastEventAt: string;
}

const PHASE_KEY = SEARCH_ATTRIBUTES.phase.name;
const TIMEOUT_TYPES = ['unspecified', 'start-to-close', 'schedule-to-start', 'schedule-to-close', 'heartbeat'];

function timeoutName(type: unknown): string {
  return (typeof type === 'number' ? TIMEOUT_TYPES[type] : undefined) ?? String(type ?? 'unknown');
}

/** "Type: message; cause: ..." of a Temporal failure. */
export function failureText(failure: Failure): string {
  const parts: string[] = [];
  let current: Failure = failure;
  for (let depth = 0; current && depth < 4; depth++) {
    const type =
      current.applicationFailureInfo?.type ||
      (current.timeoutFailureInfo ? `Timeout:${timeoutName(current.timeoutFailureInfo.timeoutType)}` : '');
    parts.push(type ? `${type}: ${current.message ?? ''}` : (current.message ?? ''));
    current = current.cause;
  }
  return parts.filter(Boolean).join('; cause: ') || 'failed';
}

function decodeSummary(event: HistoryEvent): string | undefined {
  const summary = event.userMetadata?.summary;
  if (!summary) return undefined;
  const value = decodeFirst({ payloads: [summary] });
  return typeof value === 'string' ? value : undefined;
}

/** Reads every event of the history once. */
export function readHistoryFacts(history: History): HistoryFacts {
  const events = history.events ?? [];
  const first = events[0] as HistoryEvent;
  const started = first.workflowExecutionStartedEventAttributes ?? {};
  const facts: HistoryFacts = {
    workflowType: started.workflowType?.name ?? 'unknown',
    taskQueue: started.taskQueue?.name ?? undefined,
    startedAt: eventTime(first),
    startedAtMs: eventTimeMs(first),
    startedByIdentity: started.identity || undefined,
    staticSummary: decodeSummary(first),
    input: decodeFirst(started.input),
    runId: started.originalExecutionRunId || undefined,
    runIds: started.originalExecutionRunId ? [started.originalExecutionRunId] : [],
    phases: [],
    activities: [],
    signals: [],
    updates: [],
    execution: 'running',
    eventCount: events.length,
    lastEventAt: eventTime(events[events.length - 1] as HistoryEvent),
  };
  const activities = new Map<number, ActivityEvents>();
  const updates = new Map<string, UpdateEvent>();
  let phase: string | undefined;
  const close = (event: HistoryEvent, execution: Execution, reason?: string): void => {
    facts.execution = execution;
    facts.closedAt = eventTime(event);
    facts.closedAtMs = eventTimeMs(event);
    if (reason) facts.closeReason = reason;
  };
  const closeActivity = (
    scheduledEventId: unknown,
    event: HistoryEvent,
    outcome: ActivityEvents['outcome'],
    extra: Partial<ActivityEvents>,
  ): void => {
    const activity = activities.get(toNumber(scheduledEventId));
    if (!activity) return;
    Object.assign(activity, extra, {
      outcome,
      closedAt: eventTime(event),
      closedAtMs: eventTimeMs(event),
      closedEventId: eventId(event),
    });
  };

  for (const event of events) {
    const id = eventId(event);
    const at = eventTime(event);
    switch (eventType(event)) {
      case 'UpsertWorkflowSearchAttributes': {
        const fields = event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {};
        const payload = fields[PHASE_KEY];
        if (payload) {
          const value = decodeFirst({ payloads: [payload] });
          phase = Array.isArray(value) ? String(value[0]) : String(value);
          facts.phases.push({ phase, at, eventId: id });
        }
        break;
      }
      case 'ActivityTaskScheduled': {
        const a = event.activityTaskScheduledEventAttributes ?? {};
        activities.set(id, {
          activityId: a.activityId ?? String(id),
          type: a.activityType?.name ?? 'unknown',
          taskQueue: a.taskQueue?.name ?? undefined,
          input: decodeFirst(a.input),
          scheduledEventId: id,
          scheduledAt: at,
          scheduledAtMs: eventTimeMs(event),
          workflowTaskCompletedEventId: toNumber(a.workflowTaskCompletedEventId),
          ...(phase !== undefined ? { phase } : {}),
          outcome: 'pending',
        });
        break;
      }
      case 'ActivityTaskStarted': {
        const a = event.activityTaskStartedEventAttributes ?? {};
        const activity = activities.get(toNumber(a.scheduledEventId));
        if (activity) {
          activity.startedAt = at;
          activity.attempt = a.attempt ?? undefined;
          activity.identity = a.identity || undefined;
        }
        break;
      }
      case 'ActivityTaskCompleted': {
        const a = event.activityTaskCompletedEventAttributes ?? {};
        closeActivity(a.scheduledEventId, event, 'completed', {
          result: decodeFirst(a.result),
          ...(a.identity ? { identity: a.identity } : {}),
        });
        break;
      }
      case 'ActivityTaskFailed': {
        const a = event.activityTaskFailedEventAttributes ?? {};
        closeActivity(a.scheduledEventId, event, 'failed', {
          failure: failureText(a.failure),
          ...(a.identity ? { identity: a.identity } : {}),
        });
        break;
      }
      case 'ActivityTaskTimedOut': {
        const a = event.activityTaskTimedOutEventAttributes ?? {};
        const kind = timeoutName(a.failure?.timeoutFailureInfo?.timeoutType);
        closeActivity(a.scheduledEventId, event, 'timed-out', {
          failure: `${kind} timeout${a.failure?.cause ? `; last attempt: ${failureText(a.failure.cause)}` : ''}`,
        });
        break;
      }
      case 'ActivityTaskCanceled': {
        const a = event.activityTaskCanceledEventAttributes ?? {};
        closeActivity(a.scheduledEventId, event, 'canceled', {});
        break;
      }
      case 'WorkflowExecutionSignaled': {
        const a = event.workflowExecutionSignaledEventAttributes ?? {};
        facts.signals.push({
          eventId: id,
          at,
          name: a.signalName ?? 'unknown',
          payload: decodeFirst(a.input),
          ...(a.identity ? { identity: a.identity } : {}),
        });
        break;
      }
      case 'WorkflowExecutionUpdateAccepted': {
        const request = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
        const update: UpdateEvent = {
          eventId: id,
          at,
          updateId: request?.meta?.updateId ?? String(id),
          name: request?.input?.name ?? 'unknown',
          payload: decodeFirst(request?.input?.args),
          ...(request?.meta?.identity ? { identity: request.meta.identity } : {}),
        };
        updates.set(update.updateId, update);
        facts.updates.push(update);
        break;
      }
      case 'WorkflowExecutionUpdateCompleted': {
        const a = event.workflowExecutionUpdateCompletedEventAttributes ?? {};
        const update = updates.get(a.meta?.updateId ?? '');
        if (update) {
          update.completed = a.outcome?.failure
            ? { success: false, failure: failureText(a.outcome.failure) }
            : { success: true, result: decodeFirst(a.outcome?.success) };
        }
        break;
      }
      case 'WorkflowExecutionCompleted':
        close(event, 'completed');
        facts.result = decodeFirst(event.workflowExecutionCompletedEventAttributes?.result);
        break;
      case 'WorkflowExecutionFailed':
        close(event, 'failed', failureText(event.workflowExecutionFailedEventAttributes?.failure));
        break;
      case 'WorkflowExecutionTerminated': {
        const a = event.workflowExecutionTerminatedEventAttributes ?? {};
        close(
          event,
          'terminated',
          `terminated${a.identity ? ` by ${a.identity}` : ''}: ${a.reason || 'no reason given'}`,
        );
        break;
      }
      case 'WorkflowExecutionCanceled':
        close(event, 'canceled', 'canceled');
        break;
      case 'WorkflowExecutionTimedOut':
        close(event, 'timed-out', 'the workflow execution timed out');
        break;
      case 'WorkflowExecutionContinuedAsNew':
        // Within an incident's merged runs (audit/chain.ts) it is a hand-over to the next run, not the end.
        if (event !== events[events.length - 1]) {
          const next = event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
          if (next) facts.runIds.push(next);
          break;
        }
        close(
          event,
          'continued-as-new',
          `continued as new run ${event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? ''}`,
        );
        break;
      default:
        break;
    }
  }
  facts.activities = [...activities.values()];
  return facts;
}
