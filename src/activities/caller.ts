// Who called a destructive activity. Signed approvals are bound to a run, but a start names no run (none exists
// when it is signed), and anyone who can read the namespace can copy a start out of a history. So before a
// destructive activity acts, it asks Temporal about the run that scheduled it: our runbook, on this worker's own
// task queue (so our workflow code checked every decision), started with exactly the signed request that came
// with the call, while that request was valid.
import { Context } from '@temporalio/activity';
import { defaultPayloadConverter } from '@temporalio/common';
import { WORKFLOW_TYPES } from '../contract/names';
import { parseStatement } from '../signing';
import { continuedByWorkflowFrom } from '../temporal/continued';

export interface Caller {
  workflowId: string;
  runId: string;
  /** the signed start that came with the call */
  request: unknown;
}

/** Why the caller cannot be trusted to have checked its decisions; undefined when it can. */
export type CallerCheck = (caller: Caller) => Promise<string | undefined>;

const RUNBOOK_TYPES: string[] = [WORKFLOW_TYPES.failoverRunbook, WORKFLOW_TYPES.rejoinRunbook];
const CLOCK_SKEW_MS = 5 * 60_000;

function sameProof(a: unknown, b: unknown): boolean {
  const x = a as { statement?: unknown; signature?: unknown } | undefined;
  const y = b as { statement?: unknown; signature?: unknown } | undefined;
  return typeof x?.statement === 'string' && x.statement === y?.statement && x.signature === y?.signature;
}

interface StartedRun {
  input?: { request?: unknown };
  startedMs: number;
  type?: string;
  taskQueue?: string;
  firstRunId?: string;
  continuedByWorkflow: boolean;
}

/** The WorkflowExecutionStarted event of one run: what it was started with, when, and whether it continues another. */
async function startedRun(workflowId: string, runId: string): Promise<StartedRun | undefined> {
  const { client, info } = Context.current();
  const history = await client.workflowService.getWorkflowExecutionHistory({
    namespace: info.workflowNamespace,
    execution: { workflowId, runId },
    maximumPageSize: 1,
  });
  const event = history.history?.events?.[0];
  const started = event?.workflowExecutionStartedEventAttributes;
  if (!event || !started) return undefined;
  const payload = started.input?.payloads?.[0];
  let input: StartedRun['input'];
  try {
    input = payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
  } catch {
    input = undefined;
  }
  const seconds = Number(event.eventTime?.seconds ?? 0);
  const nanos = event.eventTime?.nanos ?? 0;
  return {
    input,
    startedMs: seconds * 1000 + Math.floor(nanos / 1e6),
    type: started.workflowType?.name ?? undefined,
    taskQueue: started.taskQueue?.name ?? undefined,
    firstRunId: started.firstExecutionRunId || undefined,
    continuedByWorkflow: continuedByWorkflowFrom(started) !== undefined,
  };
}

/**
 * The check against the Temporal server the worker is connected to (the activity context's client). A run that
 * continues an incident as new (a long outage) carries the incident's signed request: the incident's first run is the
 * one that must have been started with it while it was valid.
 */
export const temporalCallerCheck: CallerCheck = async ({ workflowId, runId, request }) => {
  const { client, info } = Context.current();
  const described = await client.workflow.getHandle(workflowId, runId).describe();
  if (!RUNBOOK_TYPES.includes(described.type)) {
    return `the calling workflow is a ${described.type.slice(0, 64)}, not a runbook`;
  }
  if (described.taskQueue !== info.taskQueue) {
    return (
      `the calling run's workflow task queue is ${described.taskQueue.slice(0, 64)}, not this worker's ` +
      `(${info.taskQueue}): its decisions were not checked by this worker's runbook code`
    );
  }
  const calling = await startedRun(workflowId, runId);
  if (!calling || !sameProof(calling.input?.request, request))
    return 'the calling run was not started with the signed request that came with the call';
  let first = calling;
  if (calling.firstRunId && calling.firstRunId !== runId) {
    if (!calling.continuedByWorkflow) {
      return 'the calling run continues an earlier run, but not by the runbook continuing as new (a retry or a cron run)';
    }
    const found = await startedRun(workflowId, calling.firstRunId);
    if (!found || !sameProof(found.input?.request, request)) {
      return "the signed request that came with the call is not the one the incident's first run was started with";
    }
    if (found.type !== described.type || found.taskQueue !== info.taskQueue) {
      return "the incident's first run is not a runbook on this worker's task queue";
    }
    first = found;
  }
  const parsed = parseStatement((request as { statement?: unknown }).statement);
  if (!parsed.ok) return `the signed request does not parse: ${parsed.reason}`;
  const { issuedAt, expiresAt } = parsed.statement;
  if (first.startedMs < Date.parse(issuedAt) - CLOCK_SKEW_MS || first.startedMs >= Date.parse(expiresAt)) {
    const startedAt = new Date(first.startedMs).toISOString();
    return `the incident started at ${startedAt}, outside the signed request's validity (${issuedAt} to ${expiresAt})`;
  }
  return undefined;
};
