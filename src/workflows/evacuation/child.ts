// A failoverRunbook started by a regionEvacuation: it tells its evacuation each phase change (status, concurrency),
// and accepts the evacuation's signed abort and batch approval as its own once it has verified them against its own
// policy. A run without such a parent is unchanged by anything here.
import { getExternalWorkflowHandle, workflowInfo } from '@temporalio/workflow';
import { childProgressSignal, type ChildProgress } from '../../contract/evacuation';
import type { RunbookPolicy } from '../../contract/policy';
import type { Verified } from '../../policy/verify';
import { verifyBatch } from './batch';
import { batchPayloadProblem } from './validate';
import type { RunbookPhase } from '../../contract/names';
import type { OpenGate } from '../../contract/types';

export interface EvacuationParent {
  workflowId: string;
  runId: string;
}

/**
 * The evacuation that started this run, from Temporal's own record of the parent (never from the input). Only its
 * workflow id is known here; the destructive activities ask Temporal what it is before they act.
 */
export function evacuationParent(): EvacuationParent | undefined {
  let info;
  try {
    info = workflowInfo();
  } catch {
    return undefined; // outside a workflow (unit tests of the state): no parent
  }
  const parent = info.parent;
  if (!parent || parent.namespace !== info.namespace || !parent.workflowId.startsWith('evacuate/')) return undefined;
  return { workflowId: parent.workflowId, runId: parent.runId };
}

/** Tells the evacuation (if any) where this run is now. Best effort: an evacuation that has ended is not told. */
export function reportToEvacuation(
  phase: RunbookPhase,
  rtoMs: number | undefined,
  gate: OpenGate | undefined,
  /** this run's count of reports so far, this one included */
  seq: number,
): void {
  const parent = evacuationParent();
  if (!parent) return;
  // Before its reroute a run is only "before its reroute" to the evacuation (the phase it counts in its
  // concurrency, set when it started the run): validating and rerouting tell it nothing it acts on. Each signal
  // takes the evacuation's lock on the server, as every child's start does: a large evacuation's starts queued
  // behind those reports (Temporal answered them BusyWorkflow and retried).
  if (rtoMs === undefined && !gate && (phase === 'validating' || phase === 'rerouting')) return;
  const info = workflowInfo();
  const report: ChildProgress = { workflowId: info.workflowId, runId: info.runId, seq, phase };
  if (rtoMs !== undefined) report.rtoMs = rtoMs;
  if (gate) {
    report.openGate = {
      gate: gate.gate,
      ...(gate.kind ? { kind: gate.kind } : {}),
      ...(gate.step ? { step: gate.step } : {}),
      ...(gate.instance !== undefined ? { instance: gate.instance } : {}),
    };
  }
  getExternalWorkflowHandle(parent.workflowId, parent.runId)
    .signal(childProgressSignal, report)
    .catch(() => undefined);
}

/**
 * Why this run does not take a batch approval as a vote at its open gate; or the verified statement. It must come
 * from this run's evacuation (bound to its run), name this group and its database, and be signed by an approver
 * of this group. Never throws.
 */
export function batchVoteCheck(
  payload: unknown,
  openGate: string | undefined,
  policy: RunbookPolicy | undefined,
  region: string,
): string | Verified {
  const malformed = batchPayloadProblem(payload);
  if (malformed) return `malformed payload: ${malformed}`;
  const parent = evacuationParent();
  if (!parent) return 'this run was not started by an evacuation: approve its gate on its own';
  if (openGate !== 'approval-unlink') return `approval-unlink is not open (${openGate ?? 'no gate is open'})`;
  if (!policy) return 'the runbook has not loaded its policy yet';
  const batch = payload as { approver: string; groups: string[]; proof: unknown };
  const group = policy.group.name;
  const databaseId = policy.group.members[region];
  if (!batch.groups.includes(group) || !databaseId) return `the batch does not list ${group}`;
  return verifyBatch(batch.proof, batch.approver, policy, {
    ...parent,
    targets: [databaseId],
    groups: [group],
    nowMs: Date.now(),
  });
}
