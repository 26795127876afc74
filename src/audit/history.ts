/**
 * Workflow histories for audits: fetched through a Temporal client, or read from a JSON file exported by
 * `geofailover audit` or by the plain Temporal CLI (`temporal workflow show -o json`), plus the few event
 * accessors the replay and the report need. The history is the durable truth an audit rests on.
 */
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON, historyToJSON, type History } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { WORKFLOW_TYPES, workflowIds } from '../contract/names';

export type { History };
export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payload = temporal.api.common.v1.IPayload;

/** Thrown when a history file or text cannot be used; the message names the file and what is wrong. */
export class HistoryError extends Error {
  override name = 'HistoryError';
}

/** A history as the audit uses it: parsed, with the exact JSON text that will be stored and hashed. */
export interface LoadedHistory {
  history: History;
  /** the package's history.json: the file as given, or historyToJSON of a fetched history */
  json: string;
  workflowId: string;
  /** the run this history belongs to, when the history says (first execution run id) */
  runId?: string;
}

/**
 * Parses a JSON history: the shape `historyToJSON` and `temporal workflow show -o json` write (an object
 * with `events`), including older exports whose enum values are PascalCase.
 * @throws HistoryError naming `source` when the text is not JSON or not a history.
 */
export function parseHistoryJson(text: string, source: string): History {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new HistoryError(`${source} is not JSON: ${(e as Error).message}`);
  }
  let history: History;
  try {
    history = historyFromJSON(parsed);
  } catch (e) {
    throw new HistoryError(
      `${source} is not a Temporal workflow history (expected {"events": [...]} as written by ` +
        `\`temporal workflow show -o json\`): ${(e as Error).message}`,
    );
  }
  if (!history.events?.length) throw new HistoryError(`${source} holds a history without events`);
  if (eventType(history.events[0] as HistoryEvent) !== 'WorkflowExecutionStarted') {
    throw new HistoryError(
      `${source} does not start with WorkflowExecutionStarted (first event: ${eventType(history.events[0] as HistoryEvent)}); ` +
        'export the whole history, not a page of it',
    );
  }
  return history;
}

/**
 * What the audit stores of a fetched history: its JSON text (historyToJSON) and its ids. The history is
 * parsed back from that text, so a fetched history and the same file read later are the same object shape.
 */
export function loadedHistory(history: History, workflowId?: string): LoadedHistory {
  const json = `${historyToJSON(history)}\n`;
  return fromJsonText(json, 'the history', workflowId);
}

function fromJsonText(json: string, source: string, workflowId?: string): LoadedHistory {
  const normalised = parseHistoryJson(json, source);
  const started = startedAttributes(normalised);
  return {
    history: normalised,
    json,
    workflowId: workflowId ?? historyWorkflowId(normalised) ?? 'unknown-workflow',
    runId: started?.originalExecutionRunId || started?.firstExecutionRunId || undefined,
  };
}

/**
 * Reads a history file; the package stores it byte for byte as it was given.
 * @throws HistoryError naming the file when it cannot be read or is not a history.
 */
export function readHistoryFile(file: string): LoadedHistory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new HistoryError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return fromJsonText(text, file);
}

/**
 * Fetches the whole history of a workflow (the latest run unless `runId` is given).
 * @throws WorkflowNotFoundError (from @temporalio/common) when there is no such workflow.
 */
export async function fetchHistory(client: Client, workflowId: string, runId?: string): Promise<LoadedHistory> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return loadedHistory(history, workflowId);
}

/** 'WorkflowExecutionStarted', 'ActivityTaskScheduled', ... (the event type without its enum prefix). */
export function eventType(event: HistoryEvent): string {
  const raw = event.eventType;
  const name = typeof raw === 'number' ? temporal.api.enums.v1.EventType[raw] : raw;
  if (typeof name === 'string' && name.startsWith('EVENT_TYPE_') && name !== 'EVENT_TYPE_UNSPECIFIED') {
    return name
      .slice('EVENT_TYPE_'.length)
      .toLowerCase()
      .replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase());
  }
  const key = Object.keys(event).find((k) => k.endsWith('EventAttributes') && (event as Record<string, unknown>)[k]);
  return key ? key[0]?.toUpperCase() + key.slice(1, -'EventAttributes'.length) : 'Unknown';
}

/** A protobuf int64 (number, Long or string) as a number. */
export function toNumber(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  const long = value as { toNumber?: () => number };
  return typeof long.toNumber === 'function' ? long.toNumber() : Number(value);
}

/** A google.protobuf.Timestamp as epoch milliseconds; undefined when absent. */
export function timestampMs(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined {
  if (!ts) return undefined;
  return toNumber(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1_000_000);
}

export function eventId(event: HistoryEvent): number {
  return toNumber(event.eventId);
}

/** The event's time as an ISO string ('' when the event has none). */
export function eventTime(event: HistoryEvent): string {
  const ms = timestampMs(event.eventTime);
  return ms === undefined ? '' : new Date(ms).toISOString();
}

export function eventTimeMs(event: HistoryEvent): number {
  return timestampMs(event.eventTime) ?? 0;
}

/** Decodes payloads with the default payload converter (JSON, binary/null); undecodable ones become a note. */
export function decodePayloads(payloads: readonly Payload[] | null | undefined): unknown[] {
  return (payloads ?? []).map((p) => {
    try {
      return defaultPayloadConverter.fromPayload(p as never);
    } catch (e) {
      const encoding = p.metadata?.encoding ? Buffer.from(p.metadata.encoding).toString() : 'unknown';
      return { undecodable: `payload with encoding ${encoding}: ${(e as Error).message}` };
    }
  });
}

/** The event's user metadata summary (e.g. ActivityOptions.summary), decoded; undefined when there is none. */
export function eventSummary(event: HistoryEvent): string | undefined {
  const summary = event.userMetadata?.summary;
  if (!summary) return undefined;
  const value = decodeFirst({ payloads: [summary] });
  return typeof value === 'string' ? value : undefined;
}

/**
 * The summary of every ActivityTaskScheduled event that has one, by its event id: the runbook tags each activity
 * with the step that scheduled it.
 */
export function activitySummaries(history: History): Map<number, string> {
  const summaries = new Map<number, string>();
  for (const event of history.events ?? []) {
    if (!event.activityTaskScheduledEventAttributes) continue;
    const summary = eventSummary(event);
    if (summary !== undefined) summaries.set(eventId(event), summary);
  }
  return summaries;
}

/** The first payload, decoded; undefined when there is none. */
export function decodeFirst(payloads: { payloads?: Payload[] | null } | null | undefined): unknown {
  return decodePayloads(payloads?.payloads)[0];
}

export function startedAttributes(
  history: History,
): temporal.api.history.v1.IWorkflowExecutionStartedEventAttributes | undefined {
  return history.events?.[0]?.workflowExecutionStartedEventAttributes ?? undefined;
}

/**
 * The workflow id a history belongs to: the started event's workflowId when the server recorded it, else
 * derived from the runbook input (failover/<group>, rejoin/<group>).
 */
export function historyWorkflowId(history: History): string | undefined {
  const started = startedAttributes(history);
  if (!started) return undefined;
  if (started.workflowId) return started.workflowId;
  // The input names its group (older histories carried the whole definition).
  const input = decodeFirst(started.input) as { group?: unknown } | undefined;
  const named = input?.group;
  const group =
    typeof named === 'string'
      ? named
      : typeof named === 'object' && named !== null && typeof (named as { name?: unknown }).name === 'string'
        ? (named as { name: string }).name
        : undefined;
  if (!group) return undefined;
  const type = started.workflowType?.name;
  if (type === WORKFLOW_TYPES.failoverRunbook) return workflowIds.failover(group);
  if (type === WORKFLOW_TYPES.rejoinRunbook) return workflowIds.rejoin(group);
  return undefined;
}
