// Who called a destructive activity. Signed approvals are bound to a run, but a start names no run (none exists
// when it is signed), and anyone who can read the namespace can copy a start out of a history. So before a
// destructive activity acts, it asks Temporal about the run that scheduled it: our runbook, on this worker's own
// task queue (so our workflow code checked every decision), started with exactly the signed request that came
// with the call, while that request was valid.
import { Context } from '@temporalio/activity';
import { defaultPayloadConverter } from '@temporalio/common';
import { WORKFLOW_TYPES } from '../contract/names';
import { parseStatement } from '../signing';

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

/** The check against the Temporal server the worker is connected to (the activity context's client). */
export const temporalCallerCheck: CallerCheck = async ({ workflowId, runId, request }) => {
  const context = Context.current();
  const { client, info } = context;
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
  const history = await client.workflowService.getWorkflowExecutionHistory({
    namespace: info.workflowNamespace,
    execution: { workflowId, runId },
    maximumPageSize: 1,
  });
  const payload = history.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  let input: { request?: unknown } | undefined;
  try {
    input = payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
  } catch {
    input = undefined;
  }
  if (!sameProof(input?.request, request))
    return 'the calling run was not started with the signed request that came with the call';
  const parsed = parseStatement((request as { statement?: unknown }).statement);
  if (!parsed.ok) return `the signed request does not parse: ${parsed.reason}`;
  const startedMs = described.startTime.getTime();
  const { issuedAt, expiresAt } = parsed.statement;
  if (startedMs < Date.parse(issuedAt) - CLOCK_SKEW_MS || startedMs >= Date.parse(expiresAt)) {
    return `the calling run started at ${described.startTime.toISOString()}, outside the signed request's validity (${issuedAt} to ${expiresAt})`;
  }
  return undefined;
};
