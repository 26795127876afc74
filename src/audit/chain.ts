/**
 * One incident, many runs: a runbook that waits out a long outage continues as new (each run's history stays
 * bounded), so its evidence is the chain of runs from the first to the last. The audit replays every run against the
 * code and builds one report from the chain merged into one history (events renumbered, in order); the package keeps
 * each run's own history beside it.
 */
import type { Client } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import { continuedByWorkflowFrom } from '../temporal/continued';
import { eventType, fetchHistory, loadedHistory, type HistoryEvent, type LoadedHistory } from './history';

/** An incident that continued as new more often than this is not followed further back (a guard, not a limit). */
const MAX_RUNS = 10_000;

/** The run this history's run continues (by the workflow continuing as new); undefined for an incident's first run. */
export function continuedFromRunId(history: History): string | undefined {
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  return started ? continuedByWorkflowFrom(started) : undefined;
}

/** The histories of every run of the incident that `runId` (default: the latest run) belongs to, first run first. */
export async function fetchIncidentRuns(client: Client, workflowId: string, runId?: string): Promise<LoadedHistory[]> {
  const runs = [await fetchHistory(client, workflowId, runId)];
  for (let previous = continuedFromRunId(runs[0]!.history); previous;) {
    if (runs.length >= MAX_RUNS) break;
    const run = await fetchHistory(client, workflowId, previous);
    runs.unshift(run);
    previous = continuedFromRunId(run.history);
  }
  return runs;
}

/**
 * The runs of one incident as one history, for the report: the first run's start, every run's events in order with
 * ids renumbered (and every `…EventId` reference with them). The later runs' own starts are left out (the hand-over,
 * not the incident); each run's continue-as-new event stays, naming the next run, so the history alone tells which
 * runs the incident had.
 */
export function mergeRuns(runs: readonly History[]): History {
  const merged: HistoryEvent[] = [];
  runs.forEach((run, index) => {
    const ids = new Map<number, number>();
    for (const event of run.events ?? []) {
      const type = eventType(event as HistoryEvent);
      if (index > 0 && type === 'WorkflowExecutionStarted') continue;
      const newId = merged.length + 1;
      ids.set(Number(event.eventId ?? 0), newId);
      merged.push(renumbered(event as HistoryEvent, newId, ids));
    }
  });
  return { events: merged } as History;
}

function renumbered(event: HistoryEvent, eventId: number, ids: Map<number, number>): HistoryEvent {
  const copy: Record<string, unknown> = { ...event, eventId };
  for (const [key, value] of Object.entries(event)) {
    if (!key.endsWith('EventAttributes') || typeof value !== 'object' || value === null) continue;
    const attributes: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const [field, ref] of Object.entries(attributes)) {
      if (!field.endsWith('EventId') || ref === null || ref === undefined) continue;
      const old = Number(ref);
      if (ids.has(old)) attributes[field] = ids.get(old);
    }
    copy[key] = attributes;
  }
  return copy as HistoryEvent;
}

/** One LoadedHistory for the report from the runs of an incident (a single run stays as it is). */
export function incidentHistory(runs: readonly LoadedHistory[]): LoadedHistory {
  const [first] = runs;
  if (!first) throw new Error('an incident has at least one run');
  if (runs.length === 1) return first;
  return loadedHistory(mergeRuns(runs.map((r) => r.history)), first.workflowId);
}
