// A runbook started by a regionEvacuation may carry a batch approval: one statement bound to the evacuation's run,
// not to the runbook's. Before a destructive activity counts it, it asks Temporal (never the input) which run
// started the calling runbook: a regionEvacuation on this worker's own task queue, so our workflow code checked it.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { FAILURE_TYPES } from '../contract/failures';
import { WORKFLOW_TYPES } from '../contract/names';
import { parseStatement } from '../signing';

export interface EvacuationRun {
  workflowId: string;
  runId: string;
}

/** The evacuation that started the calling run, or undefined when it is none (as Temporal says). */
export type EvacuationLookup = (caller: { workflowId: string; runId: string }) => Promise<EvacuationRun | undefined>;

export const temporalEvacuationOf: EvacuationLookup = async ({ workflowId, runId }) => {
  const { client, info } = Context.current();
  const calling = await client.workflow.getHandle(workflowId, runId).describe();
  const parent = calling.raw.workflowExecutionInfo?.parentExecution;
  if (!parent?.workflowId || !parent.runId || !parent.workflowId.startsWith('evacuate/')) return undefined;
  const evacuation = await client.workflow.getHandle(parent.workflowId, parent.runId).describe();
  if (evacuation.type !== WORKFLOW_TYPES.regionEvacuation || evacuation.taskQueue !== info.taskQueue) return undefined;
  return { workflowId: parent.workflowId, runId: parent.runId };
};

function namesEvacuation(authorization: unknown): boolean {
  const approvals = (authorization as { approvals?: unknown } | null)?.approvals;
  if (!Array.isArray(approvals)) return false;
  return approvals.slice(0, 16).some((proof) => {
    const parsed = parseStatement((proof as { statement?: unknown } | null)?.statement);
    return parsed.ok && parsed.statement.workflowId.startsWith('evacuate/');
  });
}

/** The calling run's evacuation when an approval names one; retried when Temporal cannot say. */
export async function evacuationRunFor(
  lookup: EvacuationLookup | undefined,
  authorization: unknown,
  caller: { workflowId: string; runId: string },
  what: string,
): Promise<EvacuationRun | undefined> {
  if (!namesEvacuation(authorization)) return undefined;
  try {
    return await (lookup ?? temporalEvacuationOf)(caller);
  } catch (e) {
    throw ApplicationFailure.retryable(
      `${what}: could not ask the Temporal server which evacuation started the calling run: ${(e as Error)?.message ?? String(e)}`,
      FAILURE_TYPES.azureTransient,
    );
  }
}
