// Which run a run continues, from its WorkflowExecutionStarted event: only a continue-as-new by the workflow itself
// counts (a retry or a cron run also names a previous run, with the original input, not a hand-over).

/** temporal.api.enums.v1.ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW */
const CONTINUED_BY_WORKFLOW = 1;

/** The run the workflow itself continued as new into this one; undefined for a first run, a retry or a cron run. */
export function continuedByWorkflowFrom(started: {
  continuedExecutionRunId?: string | null;
  initiator?: unknown;
}): string | undefined {
  if (!started.continuedExecutionRunId) return undefined;
  return Number(started.initiator) === CONTINUED_BY_WORKFLOW ? started.continuedExecutionRunId : undefined;
}
